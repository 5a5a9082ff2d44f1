// The host helper (resources/host/ptw-inspect.py) run directly with this machine's python3, as the host runs it:
// tensors split into many small units of work, so one tensor has identical and changed ranges (the ‖A‖ of the
// identical ones is summed in a second pass), with one process and with several; and every float dtype it decodes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { referenceStats, representable, rng, writeCheckpoint, type TensorSpec } from '../support/safetensors-writer';

const helper = path.resolve(__dirname, '..', '..', 'resources', 'host', 'ptw-inspect.py');
const python = spawnSync('python3', ['--version']).status === 0;

interface Line {
  type: string;
  name?: string;
  a2?: number;
  b2?: number;
  d2?: number;
  maxAbs?: number;
  same?: boolean;
  message?: string;
}

function diff(a: string, b: string, extra: string[]): Line[] {
  const result = spawnSync('python3', [helper, 'diff', a, b, ...extra], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);
}

describe.skipIf(!python)('ptw-inspect.py diff', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'ptw-inspect-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it.each([['1'], ['3']])('sums identical and changed ranges of one tensor exactly (jobs %s)', (jobs) => {
    const random = rng(11);
    const tensors = (['BF16', 'F16', 'F32'] as const).map((dtype): TensorSpec => ({
      name: `model.layers.0.${dtype.toLowerCase()}.weight`,
      dtype,
      shape: [10, 50],
      values: representable(
        dtype,
        Array.from({ length: 500 }, () => (random() < 0.5 ? -1 : 1) * (0.01 + random())),
      ),
    }));
    // Two elements changed, far apart: most 64-byte ranges are identical.
    const changed = tensors.map((t) => {
      const values = new Float64Array(t.values);
      values[7] = values[7]! + 0.5;
      values[420] = values[420]! - 0.25;
      return { ...t, values: representable(t.dtype, values) };
    });
    writeCheckpoint(path.join(work, `a${jobs}`), tensors);
    writeCheckpoint(path.join(work, `b${jobs}`), changed);
    const lines = diff(path.join(work, `a${jobs}`), path.join(work, `b${jobs}`), [
      '--jobs',
      jobs,
      '--task-bytes',
      '64',
      '--chunk-elements',
      '8',
    ]);
    expect(lines.at(-1)!.type).toBe('done');
    for (const t of tensors) {
      const line = lines.find((l) => l.type === 'tensor' && l.name === t.name)!;
      const ref = referenceStats(t.values, changed.find((c) => c.name === t.name)!.values);
      expect(line.same).toBe(false);
      expect(Math.sqrt(line.a2!) / ref.l2A, `${t.name} ‖A‖`).toBeCloseTo(1, 12);
      expect(Math.sqrt(line.d2!) / ref.l2Delta, `${t.name} ‖Δ‖`).toBeCloseTo(1, 12);
      expect(line.maxAbs!, `${t.name} max`).toBeCloseTo(ref.maxAbs, 12);
    }
  });

  it('reports a checkpoint it cannot read as an error line naming the file', () => {
    const result = spawnSync('python3', [helper, 'diff', path.join(work, 'nope'), path.join(work, 'nope2')], {
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    const last = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Line;
    expect(last.type).toBe('error');
    expect(last.message).toContain(path.join(work, 'nope'));
  });
});
