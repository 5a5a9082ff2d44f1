import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDetailSchema, runSummarySchema } from '../../../../src/shared/contract';
import { ptbImportResultSchema } from '../../../../src/shared/contract-trajectory';
import { runStateSchema } from '../../../../src/shared/runs/run-status';
import { formatRunDetail } from '../../../../src/main/cli/run-commands';
import { RunService } from '../../../../src/main/runs/run-service';
import { importPtbResults } from '../../../../src/main/trajectory/ptb-import';
import { TrajectoryService } from '../../../../src/main/trajectory/trajectory-service';
import { runClock, runClockText } from '../../../../src/renderer/runs/run-clock';
import { runPhases } from '../../../../src/renderer/monitor/run-phases';

// Result folders in the other forms PostTrainBench writes (shared/PTB.md; the harness's judge, migration and
// aggregation scripts): the newer judge's judgement_<model>.json with justifications, the older judge's text files,
// traces saved under other names, agents the app does not run, and broken values. Each folder goes in whole, with
// a problem on the field that was wrong, or is listed in `skipped` with why.

let work: string;
let results: string;
let runsDir: string;

async function folder(config: string, task: string, files: Record<string, string>): Promise<string> {
  const dir = path.join(results, config, task);
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return dir;
}

function runService(): RunService {
  return new RunService({
    home: path.join(work, 'home'),
    session: () => Promise.reject(new Error('no host may be contacted for an imported run')),
    profile: () => Promise.reject(new Error('no profile')),
    profiles: async () => [],
    secrets: { get: async () => undefined },
    appVersion: 'test',
    by: 'test',
  });
}

async function importAll() {
  const result = await importPtbResults(runsDir, results, { now: () => new Date('2026-11-23T12:00:00Z') });
  return ptbImportResultSchema.parse(result);
}

beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'ptw-ptb-forms-'));
  results = path.join(work, 'results');
  runsDir = path.join(work, 'home', 'runs');
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('PostTrainBench import: every judge form, shown with its justification', () => {
  it('reads judgement_<model>.json and the older text files, and shows them in run show and runs.get', async () => {
    await folder('claude_non_api_claude-opus-4-6_10h_run1', 'gsm8k_Qwen_Qwen3-4B-Base_77', {
      'solve_out.txt': '[2026-03-06T10:00:00Z] {"type":"system","subtype":"init","model":"claude-opus-4-6"}\n',
      'metrics.json': '{"accuracy": 0.5}',
      'time_taken.txt': '05:12:00\n',
      'judgement_gpt5_4.json': JSON.stringify({
        contamination: true,
        disallowed_model: false,
        justification_contamination: 'train.py reads openai/gsm8k split="test"\nand trains on it.',
        justification_disallowed_model: 'Fine-tuned Qwen/Qwen3-4B-Base itself.',
      }),
      'contamination_judgement.txt': 'no contamination detected\nOnly the train split was used.\n',
      'disallowed_model_judgement.txt': 'only allowed use detected\n',
    });
    const result = await importAll();
    expect(result.skipped).toEqual([]);
    const id = result.imported[0]!.id;

    const runs = runService();
    const detail = runDetailSchema.parse(await runs.get(id));
    await runs.dispose();
    expect(detail.ptb?.judgements).toEqual([
      {
        file: 'contamination_judgement.txt',
        check: 'contamination',
        flagged: false,
        text: 'Only the train split was used.',
      },
      { file: 'disallowed_model_judgement.txt', check: 'disallowed_model', flagged: false, text: '' },
      {
        file: 'judgement_gpt5_4.json',
        check: 'contamination',
        flagged: true,
        text: 'train.py reads openai/gsm8k split="test"\nand trains on it.',
      },
      {
        file: 'judgement_gpt5_4.json',
        check: 'disallowed_model',
        flagged: false,
        text: 'Fine-tuned Qwen/Qwen3-4B-Base itself.',
      },
    ]);
    // `ptw run show` (text): each verdict with its justification, and the time taken against the budget.
    const text = formatRunDetail(detail);
    expect(text).toContain('judge:       contamination: FLAGGED (judgement_gpt5_4.json)');
    expect(text).toContain('             train.py reads openai/gsm8k split="test"\n             and trains on it.');
    expect(text).toContain('judge:       contamination: clean (contamination_judgement.txt)');
    expect(text).toContain('             Only the train split was used.');
    expect(text).toContain('time taken:  05:12:00');
    expect(text).toContain('ran:         5h12m of 10h budget');
    // The judges' files are in the app's copy.
    expect((await readdir(path.join(runsDir, id, 'ptb'))).sort()).toEqual(
      [
        'contamination_judgement.txt',
        'disallowed_model_judgement.txt',
        'import.json',
        'judgement_gpt5_4.json',
        'metrics.json',
        'time_taken.txt',
      ].sort(),
    );
  });

  it('shows an imported run as what it is: ran its time against the budget, completed, no live-host warning', async () => {
    // A trace without timestamps: only time_taken says how long it ran.
    await folder('codex_non_api_high_gpt-5.4_10h_run1', 'gsm8k_Qwen_Qwen3-1.7B-Base_5', {
      'solve_out.txt': '{"type":"thread.started","thread_id":"t"}\n',
      'metrics.json': '{"accuracy": 0.4}',
      'time_taken.txt': '05:12:00\n',
      'final_model/config.json': '{}',
    });
    const { imported } = await importAll();
    const runs = runService();
    const [summary] = await runs.list();
    const detail = await runs.get(imported[0]!.id);
    await runs.dispose();
    expect(runSummarySchema.parse(summary)).toMatchObject({ status: 'scored', startedAt: null, ranSeconds: 18720 });
    const clock = runClock(summary!, Date.parse('2026-11-23T12:00:00Z'));
    expect(clock.phase).toBe('stopped');
    expect(runClockText(clock)).toEqual({ primary: 'ran 5:12:00', secondary: 'of 10h' });
    const phases = runPhases(summary!, detail.events);
    expect(phases.map((p) => [p.id, p.state])).toEqual([
      ['launched', 'done'],
      ['running', 'done'],
      ['stopped', 'done'],
      ['evaluating', 'skipped'],
      ['outcome', 'done'],
    ]);
    expect(formatRunDetail(detail)).toContain('ran:         5h12m of 10h budget');
    expect(formatRunDetail(detail)).not.toContain('supervisor not heard from');
  });
});

describe('ptw run watch over a recording with bad lines', () => {
  it('prints the output and reports each bad line of terminal.cast where it is', async () => {
    await folder('codex_non_api_high_gpt-5.4_10h_run1', 'gsm8k_Qwen_Qwen3-1.7B-Base_7', {
      'solve_out.txt': '[2026-03-06T10:00:00Z] first line\n[2026-03-06T10:00:01Z] second line\n',
      'metrics.json': '{"accuracy": 0.1}',
    });
    const { imported } = await importAll();
    const cast = path.join(runsDir, imported[0]!.id, 'terminal.cast');
    await writeFile(cast, `${await readFile(cast, 'utf8')}this is not JSON\n[1.5, "o", "third line\\r\\n"]\n`);
    const runs = runService();
    const out: string[] = [];
    const notes: string[] = [];
    await runs.follow(imported[0]!.id, { onOutput: (d) => out.push(d), onNote: (n) => notes.push(n), timeoutMs: 5000 });
    await runs.dispose();
    expect(out.join('')).toBe('first line\r\nsecond line\r\nthird line\r\n');
    expect(notes).toEqual([expect.stringMatching(/^terminal\.cast line 4: not JSON/)]);
  });
});

describe('PostTrainBench import: folders as they are found', () => {
  it('lists a look-alike folder in skipped with why, and reads a trace saved under another name', async () => {
    await folder('codex_non_api_high_gpt-5.4_10h_run1', 'gsm8k_Qwen_Qwen3-1.7B-Base_1', {
      'notes.md': 'the job was cancelled',
    });
    await folder('codex_non_api_high_gpt-5.4_10h_run1', 'humaneval_Qwen_Qwen3-1.7B-Base_2', {});
    await folder('codex_non_api_high_gpt-5.4_10h_run1', 'aime2025_Qwen_Qwen3-1.7B-Base_3', {
      'solve_out_attempt2.txt': '[2026-03-06T10:00:00Z] {"type":"thread.started","thread_id":"t"}\n',
      'time_taken.txt': '01:00:00',
    });
    await folder('codex_non_api_high_gpt-5.4_10h_run1', 'bfcl_Qwen_Qwen3-1.7B-Base_4', {
      'solve_parsed.txt': '=== Codex ===\n$ ls\nevaluate.py\n',
    });
    const result = await importAll();
    expect(result.skipped).toEqual([
      {
        folder: 'codex_non_api_high_gpt-5.4_10h_run1/gsm8k_Qwen_Qwen3-1.7B-Base_1',
        reason: expect.stringMatching(/named like a task folder but holds none of .*\(it holds notes\.md\)/),
      },
      {
        folder: 'codex_non_api_high_gpt-5.4_10h_run1/humaneval_Qwen_Qwen3-1.7B-Base_2',
        reason: expect.stringContaining('(it is empty)'),
      },
    ]);
    expect(result.imported.map((r) => r.folder).sort()).toEqual([
      'codex_non_api_high_gpt-5.4_10h_run1/aime2025_Qwen_Qwen3-1.7B-Base_3',
      'codex_non_api_high_gpt-5.4_10h_run1/bfcl_Qwen_Qwen3-1.7B-Base_4',
    ]);
    const runs = runService();
    for (const one of result.imported) {
      const detail = await runs.get(one.id);
      const expected = one.folder.includes('aime') ? 'solve_out_attempt2.txt' : 'solve_parsed.txt';
      expect(detail.ptb?.trace).toBe(expected);
      expect(detail.ptb?.problems).toContain(
        `the steps come from ${expected} (there is no solve_out.txt with content)`,
      );
      expect(formatRunDetail(detail)).toContain(`trace:       ${expected}`);
      expect(one.steps).toBeGreaterThan(0);
    }
    await runs.dispose();
  });

  it('imports a folder with a non-finite metric or a broken time_taken whole, with a problem on that field', async () => {
    await folder('claude_non_api_claude-opus-4-6_10h_run1', 'gsm8k_Qwen_Qwen3-4B-Base_1', {
      'solve_out.txt': '[2026-03-06T10:00:00Z] {"type":"system","subtype":"init"}\n',
      'metrics.json': '{"accuracy": 1e400, "stderr": 0.01}',
      'time_taken.txt': 'about five hours\u001b[2J',
    });
    await folder('claude_non_api_claude-opus-4-6_10h_run1', 'gsm8k_Qwen_Qwen3-4B-Base_2', {
      'solve_out.txt': '[2026-03-06T10:00:00Z] {"type":"system","subtype":"init"}\n',
      'metrics.json': '{"accuracy": 0.3}',
      'time_taken.txt': '99999999999999999999:00:00',
    });
    const result = await importAll();
    expect(result.skipped).toEqual([]);
    expect(result.imported).toHaveLength(2);
    const [inf, huge] = [...result.imported].sort((a, b) => a.folder.localeCompare(b.folder));
    expect(inf).toMatchObject({ status: 'no-model', score: null });
    expect(huge).toMatchObject({ status: 'scored', score: 30 });

    const runs = runService();
    const detail = await runs.get(inf!.id);
    expect(detail.summary.status).toBe('no-model');
    expect(
      runStateSchema.parse(JSON.parse(await readFile(path.join(runsDir, inf!.id, 'state.json'), 'utf8'))),
    ).toMatchObject({
      evaluation: { outcome: 'no-model', metrics: null },
    });
    expect(detail.ptb?.problems).toEqual(
      expect.arrayContaining([
        'metrics.json: accuracy is 1e400, not a finite number; left out',
        'time_taken.txt says "about five hours\\u001b[2J", not HH:MM:SS; not used',
      ]),
    );
    const hugeDetail = await runs.get(huge!.id);
    expect(hugeDetail.ptb?.problems.join('\n')).toContain('longer than 366 days; not used');
    expect(hugeDetail.summary.stoppedAt).toBe(Date.parse('2026-03-06T10:00:00Z'));
    // Every summary is inside the contract; none is stuck as "starting".
    for (const s of await runs.list()) expect(runSummarySchema.parse(s).status).not.toBe('starting');
    await runs.dispose();
  });

  it('names an agent beyond the four from its method folder and reads its stream and its epoch-ms times', async () => {
    // Cursor's stream-json (agents/cursor_cli in the harness): Claude-like events with `timestamp_ms`.
    const t0 = Date.parse('2026-03-06T10:00:00Z');
    const stream = [
      '[cursor_cli] installing Cursor CLI from cursor.com/install ...',
      JSON.stringify({ type: 'system', subtype: 'init', model: 'gpt-5', cwd: '/home/ben/task', session_id: 's' }),
      JSON.stringify({
        type: 'assistant',
        message: { role: 'assistant', content: [{ type: 'text', text: 'Looking around.' }] },
        session_id: 's',
        model_call_id: 'm1',
        timestamp_ms: t0 + 1000,
      }),
      JSON.stringify({
        type: 'result',
        subtype: 'success',
        duration_ms: 5000,
        is_error: false,
        result: 'Done.',
        session_id: 's',
        timestamp_ms: t0 + 7_200_000,
      }),
    ];
    await folder('cursor_cli_gpt-5_10h_run1', 'gsm8k_Qwen_Qwen3-4B-Base_9', {
      'solve_out.txt': `${stream.join('\n')}\n`,
      'metrics.json': '{"accuracy": 0.2}',
    });
    const result = await importAll();
    expect(result.imported).toEqual([expect.objectContaining({ agent: 'cursor_cli · gpt-5', status: 'scored' })]);
    const id = result.imported[0]!.id;
    const runs = runService();
    const detail = await runs.get(id);
    await runs.dispose();
    expect(detail.summary).toMatchObject({
      agent: 'cursor_cli · gpt-5',
      startedAt: t0 + 1000,
      stoppedAt: t0 + 7_200_000,
    });
    expect(detail.spec).toMatchObject({
      agent: { id: 'cursor_cli', model: 'gpt-5', streamFormat: 'claude-stream-json' },
    });
    expect(detail.ptb?.method).toBe('cursor_cli');
    const page = await new TrajectoryService(runsDir).steps({ id, offset: 0, limit: 100 });
    expect(page.dialect).toBe('claude-stream-json');
    expect(page.steps.map((s) => [s.kind, s.t])).toEqual([
      // Lines before the first time are placed at it by the recording made from the trace, in their order.
      ['raw', t0 + 1000],
      ['system', t0 + 1000],
      ['message', t0 + 1000],
      ['usage', t0 + 7_200_000],
    ]);
  });
});
