export interface TextSpan {
  readonly text: string;
  readonly code: boolean;
}

/**
 * Splits our own message strings on `backticks` so commands can be shown as code. The spans are
 * rendered as React text, never as HTML; an unpaired backtick is kept as a literal character.
 */
export function splitCodeSpans(text: string): TextSpan[] {
  const spans: TextSpan[] = [];
  const pattern = /`([^`]+)`/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    const start = match.index;
    if (start > last) spans.push({ text: text.slice(last, start), code: false });
    spans.push({ text: match[1] ?? '', code: true });
    last = start + match[0].length;
  }
  if (last < text.length) spans.push({ text: text.slice(last), code: false });
  return spans;
}
