import { splitCodeSpans } from './code-spans';

/** Our own message strings with `code` spans; everything is rendered as text. */
export function RichText({ text }: { text: string }) {
  return (
    <>
      {splitCodeSpans(text).map((span, i) =>
        span.code ? <code key={i}>{span.text}</code> : <span key={i}>{span.text}</span>,
      )}
    </>
  );
}
