/**
 * JSON rows as the file writes them. `JSON.parse` rounds 64-bit integers (9007199254740993 → …992), turns 1e400
 * into Infinity (which then crosses the wire as null), and refuses the `NaN` / `Infinity` / `-Infinity` that
 * Python's json module writes and reads. Here a number that a JS number cannot hold exactly, and those three
 * words, become `{ "$ptw:number": "<as written>" }`, which {@link exactJsonText} prints back as written. Parsing is
 * iterative with a depth bound the host helper uses too (resources/host/ptw_host/datasets/exact_json.py), so a row
 * nested thousands of levels deep is that row's problem, counted the same on both sides.
 */

export const EXACT_NUMBER_KEY = '$ptw:number';
/** Nesting deeper than this is a broken row (the host helper's exact_json.MAX_DEPTH says the same). */
export const MAX_JSON_DEPTH = 512;

export interface ExactNumber {
  readonly [EXACT_NUMBER_KEY]: string;
}

export function isExactNumber(value: unknown): value is ExactNumber {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 1 &&
    typeof (value as Record<string, unknown>)[EXACT_NUMBER_KEY] === 'string'
  );
}

export class JsonRowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonRowError';
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WORDS: Array<[string, unknown]> = [
  ['true', true],
  ['false', false],
  ['null', null],
  ['NaN', null],
  ['Infinity', null],
  ['-Infinity', null],
];

function numberValue(text: string): unknown {
  const n = Number(text);
  const integer = !/[.eE]/.test(text);
  if (!Number.isFinite(n) || (integer && !Number.isSafeInteger(n))) return { [EXACT_NUMBER_KEY]: text };
  return n;
}

type Frame =
  { kind: 'array'; value: unknown[] } | { kind: 'object'; value: Record<string, unknown>; key: string | null };

/** Parses one JSON value (with Python's NaN / Infinity), keeping numbers exact; throws {@link JsonRowError}. */
export function parseJsonExact(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  let i = 0;
  const n = text.length;
  const stack: Frame[] = [];
  const fail = (message: string): never => {
    throw new JsonRowError(`${message} at position ${i}`);
  };
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const string = (): string => {
    // From the opening quote to the closing one, then JSON.parse for the escapes (it is exact for strings).
    const start = i;
    i++;
    for (;;) {
      if (i >= n) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c) i += 2;
      else if (c < 0x20) fail('control character in a string');
      else i++;
    }
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail('bad escape in a string');
    }
  };
  let result: unknown;
  let done = false;
  const put = (value: unknown) => {
    const top = stack[stack.length - 1];
    if (!top) {
      result = value;
      done = true;
    } else if (top.kind === 'array') top.value.push(value);
    else {
      Object.defineProperty(top.value, top.key!, { value, enumerable: true, writable: true, configurable: true });
      top.key = null;
    }
  };
  ws();
  while (!done) {
    ws();
    const top = stack[stack.length - 1];
    // Inside a container: a separator, its end, or (in an object) the next key.
    if (top && ((top.kind === 'array' && top.value.length > 0) || (top.kind === 'object' && top.key === null))) {
      const c = text[i];
      const empty = top.kind === 'array' ? false : Object.keys(top.value).length === 0;
      if (c === (top.kind === 'array' ? ']' : '}')) {
        i++;
        stack.pop();
        put(top.value);
        continue;
      }
      if (!empty) {
        if (c !== ',') fail(`expected , or ${top.kind === 'array' ? ']' : '}'}`);
        i++;
        ws();
      }
      if (top.kind === 'object') {
        if (text[i] !== '"') fail('expected a key');
        top.key = string();
        ws();
        if (text[i] !== ':') fail('expected :');
        i++;
        continue;
      }
    }
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      if (stack.length >= maxDepth) throw new JsonRowError(`nests deeper than ${maxDepth} levels`);
      i++;
      ws();
      if (c === '[') {
        if (text[i] === ']') {
          i++;
          put([]);
          continue;
        }
        // The first element follows without a separator.
        stack.push({ kind: 'array', value: [] });
        continue;
      }
      stack.push({ kind: 'object', value: {}, key: null });
      continue;
    }
    if (c === '"') {
      put(string());
      continue;
    }
    const word = WORDS.find(([w]) => text.startsWith(w, i));
    if (word) {
      i += word[0].length;
      put(word[1] === null && word[0] !== 'null' ? { [EXACT_NUMBER_KEY]: word[0] } : word[1]);
      continue;
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) fail(i >= n ? 'unexpected end' : `unexpected ${JSON.stringify(text[i])}`);
    i += m![0].length;
    put(numberValue(m![0]));
  }
  ws();
  if (i < n) fail('unexpected text after the value');
  return result;
}

/** JSON text of a value with exact numbers printed as written; `indent` as JSON.stringify's. */
export function exactJsonText(value: unknown, indent = 0): string {
  const pad = (depth: number) => (indent > 0 ? `\n${' '.repeat(indent * depth)}` : '');
  const sep = indent > 0 ? ': ' : ':';
  // Iterative, like the parser: a deep value must not overflow the stack on the way to the screen.
  const out: string[] = [];
  const work: Array<{ v: unknown; depth: number } | string> = [{ v: value, depth: 0 }];
  while (work.length > 0) {
    const item = work.pop()!;
    if (typeof item === 'string') {
      out.push(item);
      continue;
    }
    const { v, depth } = item;
    if (isExactNumber(v)) out.push(v[EXACT_NUMBER_KEY]);
    else if (Array.isArray(v)) {
      if (v.length === 0) {
        out.push('[]');
        continue;
      }
      const parts: Array<{ v: unknown; depth: number } | string> = ['['];
      v.forEach((x, k) => {
        parts.push(`${k > 0 ? ',' : ''}${pad(depth + 1)}`, { v: x, depth: depth + 1 });
      });
      parts.push(`${pad(depth)}]`);
      for (let k = parts.length - 1; k >= 0; k--) work.push(parts[k]!);
    } else if (v && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>);
      if (entries.length === 0) {
        out.push('{}');
        continue;
      }
      const parts: Array<{ v: unknown; depth: number } | string> = ['{'];
      entries.forEach(([key, x], k) => {
        parts.push(`${k > 0 ? ',' : ''}${pad(depth + 1)}${JSON.stringify(key)}${sep}`, { v: x, depth: depth + 1 });
      });
      parts.push(`${pad(depth)}}`);
      for (let k = parts.length - 1; k >= 0; k--) work.push(parts[k]!);
    } else if (v === undefined) out.push('null');
    else out.push(JSON.stringify(v) ?? 'null');
  }
  return out.join('');
}
