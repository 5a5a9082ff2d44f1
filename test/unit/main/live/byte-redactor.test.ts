import { describe, expect, it } from 'vitest';
import { ByteStreamRedactor, Utf8Carry } from '../../../../src/main/live/byte-redactor';
import { utf8CutBefore } from '../../../../src/shared/utf8';
import { StreamRedactor, type NamedSecret } from '../../../../src/shared/redact';

const secrets: NamedSecret[] = [
  { name: 'ANTHROPIC_API_KEY', value: 'sk-ant-0123456789abcdef' },
  { name: 'INNER', value: '0123456789ab' },
  { name: 'WIDE', value: 'clé-漢字-secret' },
  { name: 'SHORT', value: 'abc' },
];
const text =
  'start sk-ant-0123456789abcdef mid 0123456789ab, clé-漢字-secret and sk-ant-01234 (cut) abc ' +
  'sk-ant-0123456789abcdefsk-ant-0123456789abcdef end clé-漢字-secre';

describe('ByteStreamRedactor', () => {
  it('redacts as StreamRedactor does, at every split of the bytes into two chunks', () => {
    const whole = new StreamRedactor(secrets);
    const once = whole.push(text) + whole.flush();
    expect(once).toContain('[REDACTED:ANTHROPIC_API_KEY]');
    expect(once).toContain('[REDACTED:WIDE]');
    const bytes = Buffer.from(text, 'utf8');
    for (let cut = 0; cut <= bytes.length; cut++) {
      const redactor = new ByteStreamRedactor(secrets);
      const out = Buffer.concat([
        redactor.push(bytes.subarray(0, cut)),
        redactor.push(bytes.subarray(cut)),
        redactor.flush(),
      ]).toString('utf8');
      // No key survives any split, and a split between characters gives what the text redactor gives there.
      for (const secret of secrets.slice(0, 3)) expect(out, `cut at ${cut}`).not.toContain(secret.value);
      if (utf8CutBefore(bytes, cut) !== cut) continue;
      const chars = bytes.subarray(0, cut).toString('utf8').length;
      const split = new StreamRedactor(secrets);
      expect(out, `cut at ${cut}`).toBe(
        split.push(text.slice(0, chars)) + split.push(text.slice(chars)) + split.flush(),
      );
    }
  });

  it('passes chunks through untouched without secrets', () => {
    const redactor = new ByteStreamRedactor([{ name: 'SHORT', value: 'abc' }]);
    const chunk = Buffer.from('abc sk-ant');
    expect(redactor.push(chunk)).toBe(chunk);
    expect(redactor.flush().length).toBe(0);
  });
});

describe('UTF-8 boundaries', () => {
  const bytes = Buffer.from('a漢🚀é', 'utf8'); // 1 + 3 + 4 + 2 bytes

  it('moves a cut back to the start of the character it falls in', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((at) => utf8CutBefore(bytes, at))).toEqual([
      0, 1, 1, 1, 4, 4, 4, 4, 8, 8, 10,
    ]);
  });

  it('carries a character cut at a chunk end over to the next chunk', () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      const carry = new Utf8Carry();
      const first = carry.push(bytes.subarray(0, cut));
      const second = carry.push(bytes.subarray(cut));
      expect(first.toString('utf8')).not.toContain('\ufffd');
      expect(Buffer.concat([first, second, carry.flush()]).equals(bytes)).toBe(true);
    }
    const broken = new Utf8Carry();
    expect(Buffer.concat([broken.push(Buffer.from([0x61, 0xe6, 0xbc])), broken.flush()])).toEqual(
      Buffer.from([0x61, 0xe6, 0xbc]),
    );
  });
});
