// `ptw integrity check` on imported PostTrainBench folders (no host: the helper runs on this machine with
// python3), over every generated scenario: exit codes, the exact JSON contract, the verdict file the leaderboard
// reads, decisions, and a record whose source folder is gone.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../../src/main/cli/ptw-cli';
import { formatIntegrity } from '../../../../src/main/cli/integrity-commands';
import { LeaderboardService } from '../../../../src/main/leaderboard/leaderboard-service';
import { TrajectoryService } from '../../../../src/main/trajectory/trajectory-service';
import { integrityStateSchema, integrityVerdictSchema } from '../../../../src/shared/contract-integrity';
import { flagKey } from '../../../../src/shared/integrity/integrity-verdict';

const generator = path.resolve(__dirname, '..', '..', '..', 'generators', 'integrity_scenarios.py');

interface Scenario {
  name: string;
  folder: string;
  expect: string[];
}

function cliIo() {
  const io = {
    stdout: '',
    stderr: '',
    out: (t: string) => void (io.stdout += t),
    err: (t: string) => void (io.stderr += t),
  };
  return io;
}

describe('ptw integrity check on imported PostTrainBench folders', () => {
  let work: string;
  let out: string;
  let scenarios: Scenario[];
  const ids = new Map<string, string>();
  const previousHome = process.env.PTW_HOME;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-integrity-'));
    out = path.join(work, 'scenarios');
    const made = spawnSync('python3', [generator, out], { encoding: 'utf8', timeout: 120_000 });
    expect(made.status, made.stderr).toBe(0);
    scenarios = JSON.parse(readFileSync(path.join(out, 'scenarios.json'), 'utf8')) as Scenario[];
    process.env.PTW_HOME = path.join(work, 'home');
    const io = cliIo();
    expect(await runCli(['import', 'ptb', path.join(out, 'results'), '--json'], io), io.stderr).toBe(0);
    const result = JSON.parse(io.stdout) as { imported: { id: string; folder: string }[] };
    for (const r of result.imported) {
      const s = scenarios.find((x) => path.resolve(out, x.folder) === path.resolve(out, 'results', r.folder));
      if (s) ids.set(s.name, r.id);
    }
    expect(ids.size).toBe(scenarios.length);
  }, 180_000);

  afterAll(async () => {
    if (previousHome === undefined) delete process.env.PTW_HOME;
    else process.env.PTW_HOME = previousHome;
    await rm(work, { recursive: true, force: true });
  });

  const refs = (): string[] => [
    '--references',
    path.join(out, 'hf-cache'),
    '--test-sets',
    path.join(out, 'test-sets'),
    '--ptb-checkout',
    path.join(out, 'ptb-checkout'),
  ];

  it('catches every cheat with its kind (exit 1) and passes every clean run (exit 0), JSON exactly as the issue says', async () => {
    for (const s of scenarios) {
      const id = ids.get(s.name)!;
      const io = cliIo();
      const code = await runCli(['integrity', 'check', id, '--json', ...refs()], io);
      const raw = JSON.parse(io.stdout) as Record<string, unknown>;
      expect(Object.keys(raw), s.name).toEqual(['run', 'verdict', 'flags', 'checks']);
      const verdict = integrityVerdictSchema.strict().parse(raw);
      const serious = [...new Set(verdict.flags.filter((f) => f.severity !== 'info').map((f) => f.kind))].sort();
      expect(serious, `${s.name}: ${io.stdout.slice(0, 2000)}`).toEqual([...s.expect].sort());
      expect(verdict.run).toBe(id);
      expect(verdict.checks.map((c) => c.status)).not.toContain('not-run');
      expect(verdict.verdict).toBe(s.expect.length > 0 ? 'flagged' : 'clean');
      expect(code, s.name).toBe(s.expect.length > 0 ? 1 : 0);
      // What the leaderboard reads is the same JSON.
      const home = process.env.PTW_HOME!;
      const stored = JSON.parse(
        await readFile(path.join(home, 'runs', id, 'integrity', 'verdict.json'), 'utf8'),
      ) as unknown;
      expect(stored).toEqual(raw);
    }
  }, 300_000);

  it('the leaderboard takes our verdict over the judge: a flagged run falls back, a clean one counts', async () => {
    const runsDir = path.join(process.env.PTW_HOME!, 'runs');
    const board = await new LeaderboardService({ runsDir, trajectory: new TrajectoryService(runsDir) }).leaderboard({});
    const runs = Object.values(board.rows)
      .flatMap((row) => Object.values(row.cells))
      .flatMap((cell) => cell.runs);
    const flagged = runs.find((r) => r.runId === ids.get('api-curl'))!;
    const clean = runs.find((r) => r.runId === ids.get('clean-lora'))!;
    expect(flagged.verdict).toMatchObject({ source: 'integrity', state: 'flagged' });
    expect(flagged.verdict.reasons.join(' ')).toContain('api_misuse');
    expect(flagged.fallback).toBe('flagged');
    expect(clean.verdict).toMatchObject({ source: 'integrity', state: 'clean' });
    expect(clean.fallback).toBeNull();
  });

  it("shows PostTrainBench's judge beside our verdict (its GSM8K false positive: clean here)", async () => {
    const io = cliIo();
    expect(await runCli(['integrity', 'show', ids.get('clean-gsm8k-train')!, '--json'], io)).toBe(0);
    const state = integrityStateSchema.parse(JSON.parse(io.stdout));
    expect(state.record!.verdict.verdict).toBe('clean');
    expect(state.judge.find((j) => j.file === 'contamination_judgement.txt')?.flagged).toBe(true);
  });

  it('puts a flag on the run timeline where its evidence appeared (the trace line time)', async () => {
    const runsDir = path.join(process.env.PTW_HOME!, 'runs');
    const timeline = await new TrajectoryService(runsDir).timeline(ids.get('api-curl')!);
    const marks = timeline.events.filter((e) => e.type === 'integrity-flag');
    expect(marks.map((m) => [m.kind, m.t])).toContainEqual(['api_misuse', Date.parse('2026-03-01T10:00:00Z')]);
    const clean = await new TrajectoryService(runsDir).timeline(ids.get('clean-lora')!);
    expect(clean.events.filter((e) => e.type === 'integrity-flag')).toEqual([]);
  });

  it('records a decision with a note, shows it, and clears it', async () => {
    const id = ids.get('contam-direct')!;
    let io = cliIo();
    expect(await runCli(['integrity', 'show', id, '--json'], io)).toBe(1);
    const state = integrityStateSchema.parse(JSON.parse(io.stdout));
    // An imported run is checked here, never on a host.
    expect(state.record!.where).toBe('local');
    const flag = state.record!.verdict.flags.find((f) => f.kind === 'contamination' && f.severity === 'high')!;
    const key = flagKey(flag);
    io = cliIo();
    expect(
      await runCli(['integrity', 'decide', id, key, 'confirmed', '--note', 'rows 51-55 are GSM8K test items'], io),
    ).toBe(0);
    io = cliIo();
    await runCli(['integrity', 'show', id], io);
    expect(io.stdout).toContain(`flag ${key} — confirmed: rows 51-55 are GSM8K test items`);
    expect(io.stdout).toContain('task/data/train.jsonl:51');
    io = cliIo();
    await runCli(['integrity', 'decide', id, key, 'clear', '--json'], io);
    expect(integrityStateSchema.parse(JSON.parse(io.stdout)).decisions).toEqual([]);
    io = cliIo();
    expect(await runCli(['integrity', 'decide', id, key, 'maybe'], io)).toBe(2);
  });

  it('escapes control characters from the agent in text output', () => {
    const text = formatIntegrity({
      runId: 'r-20260301-100000-abcd',
      decisions: [],
      judge: [],
      record: {
        verdict: {
          run: 'r-20260301-100000-abcd',
          verdict: 'flagged',
          checks: [],
          flags: [
            {
              kind: 'api_misuse',
              severity: 'high',
              summary: 'call',
              evidence: [{ type: 'command', file: 'x\u001b]0;pwned\u0007', line: 3, text: 'curl \u001b[31mred' }],
            },
          ],
        },
        checkedAt: 0,
        where: 'local',
        source: 'here',
        skipped: [],
        skippedCount: 0,
        seconds: 0,
        details: [],
        firstSeen: {},
      },
    });
    expect(text).not.toContain('\u001b');
    expect(text).toContain('\\x1b]0;pwned\\x07');
  });

  it('a record whose source folder is gone is checked on what it holds: the trace still shows the call, the weights are not-run with why', async () => {
    const s = scenarios.find((x) => x.name === 'api-curl')!;
    await rm(path.join(out, s.folder), { recursive: true, force: true });
    const io = cliIo();
    const code = await runCli(['integrity', 'check', ids.get('api-curl')!, '--json', ...refs()], io);
    const verdict = integrityVerdictSchema.parse(JSON.parse(io.stdout));
    const byKind = Object.fromEntries(verdict.checks.map((c) => [c.kind, c]));
    // The trace was imported, so the curl is still found; the weights were not.
    expect(verdict.verdict).toBe('flagged');
    expect(code).toBe(1);
    expect(byKind.model_substitution!.status).toBe('not-run');
    expect(byKind.model_substitution!.reason).toContain('final_model');
  });
});
