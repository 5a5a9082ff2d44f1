// `ptw integrity check` on a run on a real host (sshd + dockerd) through the built CLI: the helper is uploaded into
// the run folder and runs there with the host's python3; a workspace holding generated cheats is flagged with the
// right kinds (exit 1), a link out of the run folder is listed and never read, and after the workspace is cleaned
// the same run is clean (exit 0). The verdict lands where the leaderboard reads it.
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { integrityStateSchema, integrityVerdictSchema } from '../../src/shared/contract-integrity';
import { startRunTestHost, type RunTestHost } from '../support/run-test-host';
import { describeWithTestHost } from '../support/test-host-availability';

const generator = path.resolve(__dirname, '..', 'generators', 'integrity_scenarios.py');

interface Scenario {
  name: string;
  folder: string;
  expect: string[];
}

describeWithTestHost('integrity checks on a real host through the ptw CLI', () => {
  let t: RunTestHost;
  let out: string;
  let id: string;
  let runDir: string;
  let scenarios: Scenario[];
  const folder = (name: string): string => path.join(out, scenarios.find((s) => s.name === name)!.folder);

  beforeAll(async () => {
    out = mkdtempSync(path.join(os.tmpdir(), 'ptw-integrity-scenarios-'));
    const made = spawnSync('python3', [generator, out], { encoding: 'utf8', timeout: 120_000 });
    expect(made.status, made.stderr).toBe(0);
    scenarios = JSON.parse(readFileSync(path.join(out, 'scenarios.json'), 'utf8')) as Scenario[];
    t = await startRunTestHost({ nvidiaSmi: 'none', addFlags: ['--hf-cache', path.join(out, 'hf-cache')] });
    id = await t.startRun({ budget: '2m', env: { PTW_REHEARSAL_SECONDS: '1' } });
    runDir = t.runDir(id);
    const waited = await t.ptw(['run', 'wait', id], {}, 240_000);
    expect([0, 1], waited.stderr).toContain(waited.code);
    // The rehearsal names no benchmark: this run is made a GSM8K cell on Qwen3-1.7B-Base, on the host and in the
    // mirror (the checks read the benchmark and base model from the run's spec).
    for (const file of [path.join(runDir, 'run.json'), path.join(t.env.PTW_HOME!, 'runs', id, 'run.json')]) {
      const runJson = JSON.parse(readFileSync(file, 'utf8')) as { spec: Record<string, unknown> };
      runJson.spec.task = { kind: 'ptb', benchmark: 'gsm8k', baseModel: 'Qwen/Qwen3-1.7B-Base' };
      writeFileSync(file, JSON.stringify(runJson, null, 2));
    }
  }, 400_000);

  afterAll(async () => {
    await t?.cleanup();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  const check = (): ReturnType<RunTestHost['ptw']> =>
    t.ptw(
      [
        'integrity',
        'check',
        id,
        '--json',
        '--test-sets',
        path.join(out, 'test-sets'),
        '--ptb-checkout',
        path.join(out, 'ptb-checkout'),
      ],
      {},
      300_000,
    );

  it('flags contamination, an instruct copy and a hosted API call in the workspace on the host (exit 1)', async () => {
    const ws = path.join(runDir, 'workspace');
    cpSync(path.join(folder('contam-direct'), 'task', 'data'), path.join(ws, 'data'), { recursive: true });
    rmSync(path.join(ws, 'final_model'), { recursive: true, force: true });
    cpSync(path.join(folder('subst-instruct-copy'), 'final_model'), path.join(ws, 'final_model'), { recursive: true });
    const trace = readFileSync(path.join(folder('api-curl'), 'solve_out.txt'), 'utf8');
    appendFileSync(
      path.join(runDir, 'record', 'agent-stream.jsonl'),
      trace
        .split('\n')
        .filter((l) => l.includes('{'))
        .join('\n') + '\n',
    );
    // A link out of the run folder to a file holding test items: listed with why, never read.
    symlinkSync(path.join(out, 'test-sets', 'gsm8k.jsonl'), path.join(ws, 'data', 'linked.jsonl'));

    const result = await check();
    expect(result.code, result.stderr + result.stdout.slice(0, 3000)).toBe(1);
    const verdict = integrityVerdictSchema.strict().parse(JSON.parse(result.stdout));
    expect(verdict.run).toBe(id);
    expect(verdict.verdict).toBe('flagged');
    const serious = [...new Set(verdict.flags.filter((f) => f.severity !== 'info').map((f) => f.kind))].sort();
    expect(serious).toEqual(['api_misuse', 'contamination', 'model_substitution']);
    const contamination = verdict.flags.find((f) => f.kind === 'contamination' && f.severity === 'high')!;
    const files = new Set(contamination.evidence.map((e) => e.file));
    expect(files).toEqual(new Set(['workspace/data/train.jsonl']));
    expect(verdict.checks.find((c) => c.kind === 'contamination')!.reason).toContain('20 item(s)');
    // The helper ran on the host, next to the run.
    expect(existsSync(path.join(runDir, '.integrity', 'ptw-host.pyz'))).toBe(true);
    const stored = JSON.parse(
      readFileSync(path.join(t.env.PTW_HOME!, 'runs', id, 'integrity', 'verdict.json'), 'utf8'),
    );
    expect(stored).toEqual(JSON.parse(result.stdout));
    const shown = await t.ptw(['integrity', 'show', id, '--json']);
    expect(shown.code).toBe(1);
    const state = integrityStateSchema.parse(JSON.parse(shown.stdout));
    expect(state.record!.where).toBe('host');
    const link = state.record!.skipped.find((s) => s.file === 'workspace/data/linked.jsonl');
    expect(link?.reason).toContain('outside the run folder');
  }, 400_000);

  it('the same run is clean once the workspace holds a clean run (exit 0)', async () => {
    const ws = path.join(runDir, 'workspace');
    rmSync(path.join(ws, 'data'), { recursive: true, force: true });
    cpSync(path.join(folder('clean-style'), 'task', 'data'), path.join(ws, 'data'), { recursive: true });
    rmSync(path.join(ws, 'final_model'), { recursive: true, force: true });
    cpSync(path.join(folder('clean-lora'), 'final_model'), path.join(ws, 'final_model'), { recursive: true });
    const stream = path.join(runDir, 'record', 'agent-stream.jsonl');
    writeFileSync(
      stream,
      readFileSync(stream, 'utf8')
        .split('\n')
        .filter((l) => !l.includes('api.openai.com'))
        .join('\n'),
    );
    const result = await check();
    expect(result.code, result.stderr + result.stdout.slice(0, 3000)).toBe(0);
    const verdict = integrityVerdictSchema.parse(JSON.parse(result.stdout));
    expect(verdict.verdict).toBe('clean');
    expect(verdict.checks.map((c) => c.status)).toEqual(['pass', 'pass', 'pass', 'pass']);
  }, 400_000);
});
