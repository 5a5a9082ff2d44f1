import { describe, expect, it } from 'vitest';
import { redactBytes, redactCast, redactLines } from '../../../../src/main/runs/record-redaction';

const KEY = 'sk-ant-api03-abcdefghijklmnop';
const secrets = [{ name: 'ANTHROPIC_API_KEY', value: KEY }];
const MARK = '[REDACTED:ANTHROPIC_API_KEY]';

const header = '{"version": 2, "width": 120, "height": 40, "timestamp": 1763899200, "env": {"TERM": "xterm-256color"}}';
const event = (t: number, data: string): string => `[${t.toFixed(6)}, "o", ${JSON.stringify(data)}]`;
const cast = (...lines: string[]): Buffer => Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');

function outputOf(text: string): string {
  return text
    .split('\n')
    .filter((l) => l.startsWith('['))
    .map((l) => (JSON.parse(l) as [number, string, string])[2])
    .join('');
}

describe('redactLines', () => {
  it('copies complete lines only, byte for byte when there is no secret', () => {
    const input = Buffer.from([0x61, 0x0a, 0xff, 0xfe, 0x0a, 0x62]);
    const out = redactLines(input, [], false);
    expect(out.consumed).toBe(5);
    expect(out.output).toEqual(input.subarray(0, 5));
    expect(redactLines(input, [], true).consumed).toBe(6);
  });

  it('redacts keys and their JSON-escaped spelling, keeping other bytes', () => {
    const quoted = { name: 'K', value: 'pass"word\\1234' };
    const input = Buffer.from(`{"a":"${KEY}"}\n{"b":${JSON.stringify(quoted.value)}}\nrest`);
    const out = redactLines(input, [...secrets, quoted], false);
    expect(out.output.toString()).toBe(`{"a":"${MARK}"}\n{"b":"[REDACTED:K]"}\n`);
    expect(out.consumed).toBe(input.length - 4);
  });

  it('ignores values too short to be keys', () => {
    expect(redactBytes(Buffer.from('a short one'), [{ name: 'X', value: 'short' }]).toString()).toBe('a short one');
  });
});

describe('redactCast', () => {
  it('passes the cast through untouched without secrets, holding back a partial line', () => {
    const input = Buffer.concat([cast(header, event(0.1, 'hello\r\n')), Buffer.from('[0.2, "o", "par')]);
    const out = redactCast(input, [], false);
    expect(out.output.toString()).toBe(`${header}\n${event(0.1, 'hello\r\n')}\n`);
    expect(out.consumed).toBe(input.length - '[0.2, "o", "par'.length);
  });

  it('redacts a key inside one event and leaves other events byte for byte', () => {
    const lines = [header, event(0.1, 'start\r\n'), event(0.2, `key=${KEY}\r\n`), event(0.3, 'after\r\n')];
    const out = redactCast(cast(...lines), secrets, false);
    const text = out.output.toString();
    expect(text.split('\n')[1]).toBe(lines[1]);
    expect(text).toContain(event(0.2, `key=${MARK}\r\n`));
    expect(text).not.toContain(KEY.slice(0, 10));
    expect(out.consumed).toBe(cast(...lines).length);
  });

  it('redacts a key split across two events: the mark where it began, the rest dropped from the next', () => {
    const lines = [event(1, `key: ${KEY.slice(0, 9)}`), event(2, `${KEY.slice(9)} end\r\n`)];
    const out = redactCast(cast(...lines), secrets, false);
    const text = out.output.toString();
    expect(text).toBe(`${event(1, `key: ${MARK}`)}\n${event(2, ' end\r\n')}\n`);
  });

  it('holds back output that could be the start of a key until the next sync shows how it goes on', () => {
    const first = cast(header, event(1, 'hello\r\n'), event(2, `key: ${KEY.slice(0, 9)}`));
    const held = redactCast(first, secrets, false);
    expect(held.output.toString()).toBe(`${header}\n${event(1, 'hello\r\n')}\n`);
    // Nothing of the key is consumed: the held event is read again next time, from the host.
    expect(held.consumed).toBe(cast(header, event(1, 'hello\r\n')).length);
    expect(held.output.toString()).not.toContain(KEY.slice(0, 9));

    const next = Buffer.concat([first.subarray(held.consumed), cast(event(3, `${KEY.slice(9)}!\r\n`))]);
    const rest = redactCast(next, secrets, false);
    expect(outputOf(rest.output.toString())).toBe(`key: ${MARK}!\r\n`);
    expect(rest.consumed).toBe(next.length);
  });

  it('holds a key that straddles the hold point whole, so its second half is never read without its first', () => {
    // Event 2 ends the first key and starts what could be a second one.
    const input = cast(event(1, `a ${KEY.slice(0, 6)}`), event(2, `${KEY.slice(6)} and ${KEY.slice(0, 4)}`));
    const out = redactCast(input, secrets, false);
    expect(out.consumed).toBe(0);
    expect(out.output.length).toBe(0);
    const done = redactCast(Buffer.concat([input, cast(event(3, `${KEY.slice(4)}.`))]), secrets, false);
    expect(outputOf(done.output.toString())).toBe(`a ${MARK} and ${MARK}.`);
  });

  it('flushes held output once the file is final (a prefix that never became a key is kept as it was)', () => {
    const input = cast(event(1, 'x'), event(2, `${KEY.slice(0, 5)}`));
    expect(redactCast(input, secrets, false).consumed).toBe(cast(event(1, 'x')).length);
    const final = redactCast(input, secrets, true);
    expect(final.consumed).toBe(input.length);
    expect(outputOf(final.output.toString())).toBe(`x${KEY.slice(0, 5)}`);
  });

  it('redacts resize and marker lines as text, and keeps an unterminated final line unterminated', () => {
    const input = Buffer.from(`${event(1, 'a')}\n[1.5, "m", "${KEY}"]`);
    const out = redactCast(input, secrets, true);
    expect(out.output.toString()).toBe(`${event(1, 'a')}\n[1.5, "m", "${MARK}"]`);
  });
});
