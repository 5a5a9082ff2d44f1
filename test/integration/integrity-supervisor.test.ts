// The host supervisor's integrity passes on a real host (sshd + dockerd), with no app driving them: a rehearsal run
// whose agent copies the task's test set into its workspace is flagged by the supervisor's final pass, the
// `integrity-final` event comes before the score (`evaluation-finished`, status `scored`), and a later `ptw run
// show` (a mirror sync, nothing else) brings the verdict into the local record, where `ptw integrity show` and the
// Overview's timeline read it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { integrityStateSchema, integrityVerdictSchema } from '../../src/shared/contract-integrity';
import { runStateSchema } from '../../src/shared/runs/run-status';
import { startRunTestHost, type RunTestHost } from '../support/run-test-host';
import { describeWithTestHost } from '../support/test-host-availability';

// The agent: copies test.jsonl (the benchmark's test set) into a file of its own, then writes a final_model the
// rehearsal's evaluate.py scores (one F32 tensor "score" of five ones: every item right).
const AGENT = [
  'import json, os, shutil, struct',
  "shutil.copy('test.jsonl', 'more_training_data.jsonl')",
  "header = json.dumps({'score': {'dtype': 'F32', 'shape': [5], 'data_offsets': [0, 20]}}).encode()",
  "os.makedirs('final_model', exist_ok=True)",
  "open('final_model/model.safetensors', 'wb').write(struct.pack('<Q', len(header)) + header + struct.pack('<5f', *[1.0] * 5))",
  "json.dump({'weights_file': 'model.safetensors'}, open('final_model/config.json', 'w'))",
].join('\n');

describeWithTestHost('integrity passes run by the host supervisor', () => {
  let t: RunTestHost;
  let id: string;

  beforeAll(async () => {
    t = await startRunTestHost({ nvidiaSmi: 'none' });
    id = await t.startRun({ agent: 'custom', command: ['python3', '-c', AGENT], budget: '2m' });
  }, 300_000);

  afterAll(async () => {
    await t?.cleanup();
  });

  it('flags the copied test set before the score is published, with no app running the checks', async () => {
    const runDir = t.runDir(id);
    // Wait on the host's own files: no ptw process syncs or checks meanwhile.
    const stateFile = path.join(runDir, 'state.json');
    const deadline = Date.now() + 240_000;
    let state = runStateSchema.parse(JSON.parse(readFileSync(stateFile, 'utf8')));
    while (!['scored', 'evaluation-failed', 'no-model', 'failed'].includes(state.status) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      state = runStateSchema.parse(JSON.parse(readFileSync(stateFile, 'utf8')));
    }
    expect(state.status, readFileSync(path.join(runDir, 'record', 'supervisor.log'), 'utf8').slice(-3000)).toBe(
      'scored',
    );
    const events = readFileSync(path.join(runDir, 'record', 'events.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; t: number; [k: string]: unknown });
    const types = events.map((e) => e.type);
    const final = types.indexOf('integrity-final');
    expect(final).toBeGreaterThan(types.indexOf('agent-stopped'));
    // The score waits for the final pass.
    expect(final).toBeLessThan(types.indexOf('evaluation-finished'));
    expect(events[final]).toMatchObject({ verdict: 'flagged' });
    const flag = events.find((e) => e.type === 'integrity-flag' && e.kind === 'contamination')!;
    expect(flag).toMatchObject({ severity: 'high' });
    // Marked at the moment the copy was written (its mtime), not when the pass noticed it.
    expect(flag.evidenceAt).toBeLessThanOrEqual(events[final]!.t);
    expect(flag.evidenceAt).toBeGreaterThanOrEqual(events[types.indexOf('agent-started')]!.t - 1000);
    expect(state.integrity?.finalAt).toBeGreaterThan(0);
    const onHost = integrityVerdictSchema.parse(
      JSON.parse(readFileSync(path.join(runDir, 'integrity', 'verdict.json'), 'utf8')),
    );
    expect(onHost.run).toBe(id);
    const hit = onHost.flags.find((f) => f.kind === 'contamination' && f.severity === 'high')!;
    expect(new Set(hit.evidence.map((e) => e.file))).toEqual(new Set(['workspace/more_training_data.jsonl']));

    // A mirror sync afterwards brings the verdict, its record and the events; the timeline marks the flag.
    const shown = await t.ptw(['run', 'show', id, '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    const local = readFileSync(path.join(t.env.PTW_HOME!, 'runs', id, 'integrity', 'verdict.json'), 'utf8');
    expect(JSON.parse(local)).toEqual(onHost);
    const integrity = await t.ptw(['integrity', 'show', id, '--json']);
    expect(integrity.code, integrity.stderr).toBe(1);
    const record = integrityStateSchema.parse(JSON.parse(integrity.stdout)).record!;
    expect(record.where).toBe('host');
    expect(record.verdict.verdict).toBe('flagged');
  }, 300_000);
});
