import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ptbRecordSchema } from '../../../../src/shared/contract-trajectory';
import { runStateSchema } from '../../../../src/shared/runs/run-status';
import { RunService } from '../../../../src/main/runs/run-service';
import { importPtbResults } from '../../../../src/main/trajectory/ptb-import';
import { TrajectoryService } from '../../../../src/main/trajectory/trajectory-service';

// A result folder with every file the harness leaves (shared/PTB.md), written here: a Claude Code trace with
// `[ISO-Z] ` prefixes and launcher lines, time_taken, output.log's diagnostics block, error.log, a judge verdict,
// metrics.json and a final_model/. The trace echoes a key, as an early PostTrainBench agent script did.
const KEY = 'sk-ant-api03-' + 'A'.repeat(40);
const STORED = 'stored-secret-value-1234';

describe('importPtbResults', () => {
  let work: string;
  let runsDir: string;
  let folder: string;

  beforeEach(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-ptb-'));
    runsDir = path.join(work, 'home', 'runs');
    folder = path.join(work, 'results', 'claude_non_api_claude-opus-4-6_10h_run1', 'humaneval_google_gemma-3-4b-pt_42');
    await mkdir(path.join(folder, 'final_model'), { recursive: true });
    await writeFile(path.join(folder, 'final_model', 'config.json'), '{}');
    const trace = [
      '✓ CUDA available with 1 device(s)',
      '[2026-03-06T10:00:00Z] {"type":"system","subtype":"init","model":"claude-opus-4-6","tools":[]}',
      `[2026-03-06T10:00:05Z] {"type":"assistant","message":{"id":"m1","content":[{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"echo ${KEY} ${STORED}"}}]}}`,
      `[2026-03-06T10:00:07Z] {"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t1","content":"${KEY}"}]}}`,
      '[2026-03-06T10:00:09Z] {"type":"result","subtype":"success","total_cost_usd":1.5,"usage":{"input_tokens":10,"output_tokens":20}}',
    ].join('\n');
    await writeFile(path.join(folder, 'solve_out.txt'), `${trace}\n`);
    await writeFile(path.join(folder, 'time_taken.txt'), '10:00:30\n');
    await writeFile(
      path.join(folder, 'output.log'),
      'run\n--- SOLVE DIAGNOSTICS ---\nexit_code: 124\nmax_rss_gb: 77\n\n',
    );
    await writeFile(path.join(folder, 'error.log'), 'Terminated\n');
    await writeFile(
      path.join(folder, 'judgement_humaneval.json'),
      JSON.stringify({
        contamination: false,
        disallowed_model: true,
        disallowed_model_justification: 'loaded gemma-3-4b-it',
      }),
    );
    await writeFile(path.join(folder, 'metrics.json'), '{"accuracy": 0.61, "stderr": 0.03}');
  });

  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('writes a run record the run service lists, with the facts of the folder, redacted', async () => {
    const result = await importPtbResults(runsDir, path.join(work, 'results'), {
      now: () => new Date('2026-11-23T12:00:00Z'),
      secrets: async () => [{ name: 'ANTHROPIC_API_KEY', value: STORED }],
    });
    expect(result.skipped).toEqual([]);
    expect(result.imported).toEqual([
      expect.objectContaining({
        task: 'humaneval · gemma-3-4b-pt',
        agent: 'claude-code · claude-opus-4-6',
        status: 'scored',
        steps: 4,
      }),
    ]);
    const id = result.imported[0]!.id;
    expect(id).toMatch(/^r-20260306-100000-[a-f0-9]{6}$/);
    const dir = path.join(runsDir, id);

    const state = runStateSchema.parse(JSON.parse(await readFile(path.join(dir, 'state.json'), 'utf8')));
    const started = Date.parse('2026-03-06T10:00:00Z');
    expect(state).toMatchObject({
      status: 'scored',
      startedAt: started,
      stoppedAt: started + 36_030_000,
      deadline: started + 36_000_000,
      stopReason: 'budget',
      evaluation: { outcome: 'scored', metrics: { accuracy: 0.61, stderr: 0.03 } },
    });
    const record = ptbRecordSchema.parse(JSON.parse(await readFile(path.join(dir, 'ptb', 'import.json'), 'utf8')));
    expect(record).toMatchObject({
      timeTaken: '10:00:30',
      timeTakenSeconds: 36030,
      diagnostics: { exit_code: '124', max_rss_gb: '77' },
      errorCause: expect.stringContaining('time limit'),
      finalModel: { exists: true, files: 1, totalBytes: 2 },
      judgements: [
        { file: 'judgement_humaneval.json', check: 'contamination', flagged: false, text: '' },
        { file: 'judgement_humaneval.json', check: 'disallowed_model', flagged: true, text: 'loaded gemma-3-4b-it' },
      ],
      redacted: 3,
    });

    // The app's copy has neither key; the source folder is untouched.
    const stream = await readFile(path.join(dir, 'agent-stream.jsonl'), 'utf8');
    expect(stream).not.toContain(KEY);
    expect(stream).not.toContain(STORED);
    expect(stream).toContain('[REDACTED:anthropic-key]');
    expect(stream).toContain('[REDACTED:ANTHROPIC_API_KEY]');
    expect(await readFile(path.join(folder, 'solve_out.txt'), 'utf8')).toContain(KEY);
    // A cast placed by the trace's timestamps, for the replay.
    const cast = (await readFile(path.join(dir, 'terminal.cast'), 'utf8')).trimEnd().split('\n');
    expect(JSON.parse(cast[0]!)).toMatchObject({ version: 2, timestamp: started / 1000 });
    expect(JSON.parse(cast.at(-1)!)).toEqual([9, 'o', expect.stringContaining('"type":"result"')]);

    // The steps read back through the service, timed by the prefixes, the tool call paired.
    const service = new TrajectoryService(runsDir);
    const page = await service.steps({ id, offset: 0, limit: 100 });
    expect(page.dialect).toBe('claude-stream-json');
    expect(page.steps.map((s) => s.kind)).toEqual(['raw', 'system', 'shell', 'usage']);
    expect(page.steps[2]).toMatchObject({ t: started + 5000, endLine: 4, output: '[REDACTED:anthropic-key]' });
    expect(page.totals.costUsd).toBe(1.5);
    expect(page.ptb?.agentConfig).toBe('claude_non_api_claude-opus-4-6_10h_run1');
    const timeline = await service.timeline(id);
    expect(timeline.events.map((e) => e.type)).toEqual(['agent-started', 'agent-stopped', 'evaluation-finished']);
    expect(timeline.hasTerminal).toBe(true);

    // The run service lists it, shows it, and never tries to reach a host for it.
    const runs = new RunService({
      home: path.join(work, 'home'),
      session: () => Promise.reject(new Error('no host may be contacted for an imported run')),
      profile: () => Promise.reject(new Error('no profile')),
      profiles: async () => [],
      secrets: { get: async () => undefined },
      appVersion: 'test',
      by: 'test',
    });
    const [summary] = await runs.list();
    expect(summary).toMatchObject({ id, status: 'scored', host: 'posttrainbench', syncError: null });
    expect(summary!.score).toBeCloseTo(61, 6);
    const detail = await runs.get(id);
    expect(detail.metrics).toEqual({ accuracy: 0.61, stderr: 0.03 });
    expect(detail.summary.syncError).toBeNull();
    expect(await runs.syncLive()).toBe(false);
    await runs.dispose();
  });
});
