import { describe, expect, it } from 'vitest';
import { RenderProbe } from '../../../../src/renderer/live/render-probe';

// The benchmark's stream: idle markers, load markers among mixed text (escapes, wide and astral characters), an end.
const stamp = 1_763_899_200_000;
const parts: string[] = [];
let seq = 0;
for (let i = 0; i < 3; i++) parts.push(`idle @@I${seq++}:${stamp + seq}@@\n`);
for (let i = 0; i < 40; i++)
  parts.push(`load @@L${seq++}:${stamp + seq}@@\n\x1b[32m${i} äöü 漢字 🚀 @ @@x@@ tokens/s\x1b[0m\r\n`);
parts.push(`end @@E${seq++}:${stamp + seq}@@\n`);
const text = parts.join('');

describe('RenderProbe', () => {
  it('finds the same markers and counts the same units in bytes as in text, however the chunks are cut', () => {
    const now = () => stamp + 5_000;
    const fromText = new RenderProbe(now);
    fromText.rendered(text);
    const expected = fromText.snapshot();
    expect(expected.markers).toBe(seq);
    expect(expected.chars).toBe(text.length);
    expect(expected.sequenceErrors).toEqual([]);
    const bytes = new TextEncoder().encode(text);
    for (const size of [1, 2, 3, 7, 19, 23, 40, 41, 64, 1000]) {
      const probe = new RenderProbe(now);
      for (let at = 0; at < bytes.length; at += size) probe.rendered(bytes.subarray(at, at + size));
      const got = probe.snapshot();
      // loadChars counts whole chunks from the one with the first load marker: it depends on the cuts.
      expect({ ...got, longTasks: [], loadChars: 0 }, `chunks of ${size} bytes`).toEqual({
        ...expected,
        longTasks: [],
        loadChars: 0,
      });
    }
  });
});
