import { describe, expect, it } from 'vitest';
import { evidenceOpen, rowForLine, stepAtLine } from '../../../../src/renderer/common/evidence-target';
import { createNavSlice, type NavSlice } from '../../../../src/renderer/store/slices/nav-slice';

const hostRun = { id: 'r1', imported: false };
const importedRun = { id: 'r2', imported: true };

describe('integrity evidence opened in place', () => {
  it('opens a contamination hit in the dataset inspector at its line (JSONL, CSV), a JSON file at the top', () => {
    const hit = { type: 'test-item', file: 'workspace/data/train.jsonl', line: 51, item: 0 };
    expect(evidenceOpen(hit, 'contamination', hostRun)).toEqual({
      kind: 'open',
      label: 'Open in Datasets at line 51',
      target: { tab: 'datasets', runId: 'r1', path: 'data/train.jsonl', line: 51 },
    });
    const json = evidenceOpen({ ...hit, file: 'workspace/mix.json' }, 'contamination', hostRun);
    expect(json).toMatchObject({ target: { path: 'mix.json', line: null }, label: 'Open in Datasets' });
  });

  it('opens nothing where the inspector cannot: an imported run, an archive member, a script, outside the workspace', () => {
    const hit = { type: 'test-item', file: 'workspace/data/train.jsonl', line: 3 };
    expect(evidenceOpen(hit, 'contamination', importedRun)).toBeNull();
    expect(evidenceOpen({ ...hit, file: 'workspace/mix.jsonl.gz!mix.jsonl' }, 'contamination', hostRun)).toBeNull();
    expect(evidenceOpen({ ...hit, file: 'workspace/make_data.py' }, 'contamination', hostRun)).toBeNull();
    expect(evidenceOpen({ ...hit, file: 'task/data/train.jsonl' }, 'contamination', hostRun)).toBeNull();
  });

  it('opens a substitution flag as the checkpoint diff of final_model against the reference it matched', () => {
    const w = { type: 'weights', reference: 'Qwen/Qwen3-1.7B', text: 'relative distance…' };
    expect(evidenceOpen(w, 'model_substitution', hostRun)).toEqual({
      kind: 'open',
      label: 'Diff final_model against Qwen/Qwen3-1.7B',
      target: { tab: 'checkpoints', runId: 'r1', a: 'hf:Qwen/Qwen3-1.7B', b: 'workspace/final_model' },
    });
    expect(evidenceOpen(w, 'model_substitution', importedRun)).toBeNull();
    expect(evidenceOpen({ type: 'weights', text: 'older helper' }, 'model_substitution', hostRun)).toBeNull();
  });

  it('opens a changed task file as a diff of its two texts, here, for imported runs too', () => {
    const d = { type: 'diff', file: 'workspace/evaluate.py', cleanText: 'a = 1\n', agentText: 'a = 2\n', text: '-a' };
    expect(evidenceOpen(d, 'eval_tampering', importedRun)).toEqual({
      kind: 'diff',
      label: 'Open the diff',
      name: 'workspace/evaluate.py',
      original: 'a = 1\n',
      modified: 'a = 2\n',
      cut: false,
    });
    // A verdict stored by an older helper has only the unified diff: shown as text, nothing to open.
    expect(evidenceOpen({ type: 'diff', file: 'workspace/evaluate.py', text: '-a' }, 'eval_tampering', hostRun)).toBe(
      null,
    );
  });

  it('opens an API call found in the trace at its step, with the line time for the replay', () => {
    const c = { type: 'command', file: 'record/agent-stream.jsonl', line: 12, mtime: 1000, text: 'curl …' };
    expect(evidenceOpen(c, 'api_misuse', hostRun)).toEqual({
      kind: 'open',
      label: 'Open the step (trace line 12)',
      target: { tab: 'steps', runId: 'r1', line: 12, t: 1000 },
    });
    expect(evidenceOpen({ ...c, file: 'solve_out.txt' }, 'api_misuse', importedRun)).toMatchObject({
      target: { tab: 'steps', runId: 'r2', line: 12 },
    });
    // Code the agent wrote is not in the trace.
    expect(evidenceOpen({ ...c, type: 'code', file: 'workspace/call.py' }, 'api_misuse', hostRun)).toBeNull();
  });

  it('finds the step a trace line belongs to, and the row a line starts', () => {
    const steps = [
      { index: 0, line: 1 },
      { index: 1, line: 4 },
      { index: 2, line: 9 },
    ];
    expect(stepAtLine(steps, 4)).toBe(1);
    expect(stepAtLine(steps, 8)).toBe(1);
    expect(stepAtLine(steps, 100)).toBe(2);
    expect(stepAtLine([{ index: 0, line: 5 }], 2)).toBeNull();
    const rows = [
      { row: 0, line: 1 },
      { row: 1, line: 3 }, // a blank line 2 is no row
    ];
    expect(rowForLine(rows, 3, false)).toEqual({ row: 1, exact: true });
    expect(rowForLine(rows, 60, false)).toEqual({ row: 59, exact: false });
    expect(rowForLine([], 60, true)).toEqual({ row: 58, exact: false });
  });
});

describe('nav slice: evidence requests', () => {
  function slice(): { get: () => NavSlice } {
    let state: NavSlice;
    state = createNavSlice((change) => {
      state = change(state);
    });
    return { get: () => state };
  }

  it('numbers each request, goes to the Runs section, and drops a request only once that one was shown', () => {
    const nav = slice();
    nav.get().setSection('leaderboard');
    nav.get().openEvidence({ tab: 'steps', runId: 'r1', line: 3, t: null });
    const first = nav.get().evidence!;
    expect(nav.get().section).toBe('runs');
    nav.get().openEvidence({ tab: 'steps', runId: 'r1', line: 3, t: null });
    const second = nav.get().evidence!;
    expect(second.seq).toBeGreaterThan(first.seq);
    nav.get().evidenceShown(first.seq);
    expect(nav.get().evidence).toBe(second);
    nav.get().evidenceShown(second.seq);
    expect(nav.get().evidence).toBeNull();
  });
});
