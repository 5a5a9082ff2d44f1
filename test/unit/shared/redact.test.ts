import { describe, expect, it } from 'vitest';
import { redactText, StreamRedactor } from '../../../src/shared/redact';

const key = { name: 'ANTHROPIC_API_KEY', value: 'sk-ant-api03-AbCdEf0123456789' };

describe('redaction', () => {
  it('replaces every occurrence and keeps the rest', () => {
    expect(redactText(`export K=${key.value}; echo ${key.value}!`, [key])).toBe(
      'export K=[REDACTED:ANTHROPIC_API_KEY]; echo [REDACTED:ANTHROPIC_API_KEY]!',
    );
    expect(redactText('nothing here', [key])).toBe('nothing here');
  });

  it('ignores values too short to be keys', () => {
    expect(redactText('the cat sat', [{ name: 'X', value: 'cat' }])).toBe('the cat sat');
  });

  it('catches a secret split across chunks at every split point, losing nothing else', () => {
    const text = `before ${key.value} middle ${key.value} after`;
    const expected = redactText(text, [key]);
    for (let a = 1; a < text.length - 1; a++) {
      for (const b of [a + 1, a + 7, text.length - 1]) {
        if (b <= a || b >= text.length) continue;
        const r = new StreamRedactor([key]);
        const out = r.push(text.slice(0, a)) + r.push(text.slice(a, b)) + r.push(text.slice(b)) + r.flush();
        expect(out).toBe(expected);
      }
    }
  });

  it('passes text straight through when there is nothing to redact', () => {
    const r = new StreamRedactor([]);
    expect(r.push('abc')).toBe('abc');
    expect(r.flush()).toBe('');
  });
});
