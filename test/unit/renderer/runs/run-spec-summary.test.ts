import { describe, expect, it } from 'vitest';
import { metricRows } from '../../../../src/renderer/runs/run-metrics';
import { specSummary } from '../../../../src/renderer/runs/run-spec-summary';

describe('specSummary', () => {
  it('shows a stored (normalised) spec as rows', () => {
    const summary = specSummary({
      host: 'gpu1',
      task: { kind: 'ptb', benchmark: 'gsm8k', baseModel: 'Qwen/Qwen3-4B-Base' },
      agent: { id: 'claude-code', model: 'claude-opus-4-6' },
      budgetSeconds: 36000,
      gpus: [0, 1],
      image: 'ghcr.io/lab/sandbox:1',
      limits: { cpus: 16, memoryBytes: 128 * 1024 ** 3, pidsLimit: 4096 },
      network: false,
      env: { WANDB_PROJECT: 'ptb' },
      label: 'x',
    });
    expect(summary.ok && summary.rows.map((r) => [r.label, r.value])).toEqual([
      ['Task', 'GSM8K · Qwen/Qwen3-4B-Base'],
      ['Agent', 'Claude Code · claude-opus-4-6'],
      ['Budget', '10h'],
      ['GPUs', '0, 1'],
      ['Image', 'ghcr.io/lab/sandbox:1'],
      ['Network', 'off'],
      ['Limits', '16 CPUs · 128 GiB memory · 4096 processes'],
      ['Extra env', 'WANDB_PROJECT'],
    ]);
  });

  it('says what the defaults mean for a rehearsal', () => {
    const summary = specSummary({ host: 'local', task: { kind: 'rehearsal' }, agent: { id: 'rehearsal' } });
    expect(summary.ok && Object.fromEntries(summary.rows.map((r) => [r.label, r.value]))).toMatchObject({
      Task: 'Rehearsal (tiny arithmetic, CPU only)',
      Agent: 'Rehearsal agent (scripted, no API key)',
      GPUs: 'first free at launch',
      Image: 'the host’s default',
      Limits: 'none set',
    });
  });

  it('shows the agent CLI version found in the image under the agent, and no row without one', () => {
    const spec = { host: 'local', task: { kind: 'rehearsal' }, agent: { id: 'claude-code', model: 'scripted' } };
    const withVersion = specSummary(spec, { agentVersion: '2.1.337 (Claude Code)' });
    expect(withVersion.ok && withVersion.rows.slice(0, 3).map((r) => [r.label, r.value, r.mono])).toEqual([
      ['Task', 'Rehearsal (tiny arithmetic, CPU only)', false],
      ['Agent', 'Claude Code · scripted', false],
      ['Agent version', '2.1.337 (Claude Code)', true],
    ]);
    const without = specSummary(spec);
    expect(without.ok && without.rows.map((r) => r.label)).not.toContain('Agent version');
  });

  it('reports a spec it cannot read instead of half-showing it', () => {
    const summary = specSummary({ host: 'gpu1', task: { kind: 'chess' } });
    expect(summary.ok).toBe(false);
    expect(!summary.ok && summary.reason).toContain('task');
    expect(specSummary(null).ok).toBe(false);
  });
});

describe('metricRows', () => {
  it('puts accuracy (with its score) first and keeps the rest as text', () => {
    expect(metricRows({ stderr: 0.0123456789, accuracy: 0.4231, n: 1319, breakdown: { easy: 0.5 } })).toEqual([
      { label: 'accuracy', value: '0.4231 (score 42.3)' },
      { label: 'stderr', value: '0.0123457' },
      { label: 'n', value: '1319' },
      { label: 'breakdown', value: '{"easy":0.5}' },
    ]);
    expect(metricRows(null)).toEqual([]);
  });
});

describe('specSummary of an imported run', () => {
  it('shows what the spec holds, the agent named as its source named it, and nothing the launcher would add', () => {
    const spec = {
      host: 'posttrainbench',
      task: { kind: 'ptb', benchmark: 'gsm8k', baseModel: 'Qwen/Qwen3-4B-Base' },
      agent: { id: 'cursor_cli', model: 'gpt-5', streamFormat: 'claude-stream-json' },
      budgetSeconds: 36000,
    };
    const summary = specSummary(spec, { imported: 'ptb' });
    expect(summary).toEqual({
      ok: true,
      rows: [
        { label: 'Task', value: expect.stringContaining('Qwen/Qwen3-4B-Base'), mono: false },
        { label: 'Agent', value: 'cursor_cli · gpt-5', mono: false },
        { label: 'Stream', value: 'claude-stream-json', mono: true },
        { label: 'Budget', value: '10h', mono: false },
      ],
    });
    // The same spec of a run launched here does not read as a launch spec.
    expect(specSummary(spec).ok).toBe(false);
  });
});
