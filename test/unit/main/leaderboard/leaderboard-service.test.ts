import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../../src/main/cli/ptw-cli';
import { capture } from '../../../support/cli-capture';
import { LeaderboardService, splitConfigName } from '../../../../src/main/leaderboard/leaderboard-service';
import { importPtbResults } from '../../../../src/main/trajectory/ptb-import';
import { TrajectoryService } from '../../../../src/main/trajectory/trajectory-service';
import { leaderboardSchema, runComparisonSchema } from '../../../../src/shared/contract-leaderboard';
import { AGGREGATED_BASELINE } from '../../../../src/shared/leaderboard/ptb-baselines';
import { cellKey, finalCsv, PTB_WEIGHTS } from '../../../../src/shared/leaderboard/ptb-score';

const fixtures = path.join(__dirname, '../../../fixtures/posttrainbench');
const read = (rel: string): string => readFileSync(path.join(fixtures, rel), 'utf8');

const ORG: Record<string, string> = {
  'Qwen3-1.7B-Base': 'Qwen',
  'Qwen3-4B-Base': 'Qwen',
  'SmolLM3-3B-Base': 'HuggingFaceTB',
  'gemma-3-4b-pt': 'google',
};

interface FolderOptions {
  /** Replaces metrics.json's text. */
  metrics?: string;
  contamination?: string;
  prompt?: string;
}

/**
 * A public per-cell CSV laid out as the harness's result folders: `results/<method>/<bench>_<Org>_<Model>_<id>/`
 * with metrics.json, both judge files saying clean (the older text format), time_taken.txt and prompt.txt.
 */
async function layOut(
  root: string,
  method: string,
  csv: string,
  override: (bench: string, model: string) => FolderOptions = () => ({}),
): Promise<void> {
  const [header, ...lines] = csv.split(/\r?\n/).filter((l) => l !== '');
  const benchmarks = header!.split(',').slice(1);
  let id = 1000;
  for (const line of lines) {
    const [model, ...values] = line.split(',');
    for (const [i, bench] of benchmarks.entries()) {
      const o = override(bench, model!);
      const dir = path.join(root, method, `${bench}_${ORG[model!]}_${model}_${id++}`);
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'metrics.json'), o.metrics ?? JSON.stringify({ accuracy: Number(values[i]) }));
      await writeFile(path.join(dir, 'contamination_judgement.txt'), o.contamination ?? 'no contamination detected');
      await writeFile(path.join(dir, 'disallowed_model_judgement.txt'), 'only allowed use detected');
      await writeFile(path.join(dir, 'time_taken.txt'), '05:00:00\n');
      await writeFile(path.join(dir, 'prompt.txt'), o.prompt ?? `Train ${model} for ${bench}.\n`);
    }
  }
}

describe('LeaderboardService over imported PostTrainBench folders', () => {
  let work: string;
  let home: string;
  let runsDir: string;
  let service: LeaderboardService;
  const previousHome = process.env.PTW_HOME;

  beforeEach(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-board-'));
    home = path.join(work, 'home');
    runsDir = path.join(home, 'runs');
    service = new LeaderboardService({ runsDir, trajectory: new TrajectoryService(runsDir) });
    process.env.PTW_HOME = home;
  });

  afterEach(async () => {
    if (previousHome === undefined) delete process.env.PTW_HOME;
    else process.env.PTW_HOME = previousHome;
    await rm(work, { recursive: true, force: true });
  });

  it("reproduces Opus 4.6's published score from its per-cell CSV, imported as result folders", async () => {
    const results = path.join(work, 'results');
    await layOut(results, 'claude_claude-opus-4-6_10h_run1', read('website/aggregated_avg_Opus-4.6.csv'));
    const imported = await importPtbResults(runsDir, results);
    expect(imported.imported).toHaveLength(28);

    const board = leaderboardSchema.parse(await service.leaderboard());
    const row = board.rows.find((r) => r.kind === 'agent')!;
    const published = read('website/single_metrics_aggregated.csv')
      .split(/\r?\n/)
      .find((l) => l.startsWith('Opus-4.6,'))!
      .split(',');
    expect(Math.abs(row.score - Number(published[1]) * 100)).toBeLessThan(0.01);
    expect(row).toMatchObject({ agent: 'claude-code', model: 'claude-opus-4-6', budget: '10h', n: 1, complete: true });
    expect(row.cells[cellKey('bfcl', 'Qwen3-4B-Base')]!.runs[0]!.verdict).toMatchObject({
      source: 'judge',
      state: 'clean',
    });
    expect(board.problems).toEqual([]);
    // Reference rows follow the agents.
    expect(board.rows.filter((r) => r.kind === 'reference').map((r) => Math.round(r.score * 10) / 10)).toEqual([
      51.1, 18.1, 7.5,
    ]);
  });

  it('gives back the final CSV it was built from, and `ptw leaderboard --json` the same rows', async () => {
    const text = read('website/final_claude_non_api_claude-sonnet-4-6_10h.csv');
    const results = path.join(work, 'results');
    await layOut(results, 'claude_non_api_claude-sonnet-4-6_10h', text);
    await importPtbResults(runsDir, results);
    const board = await service.leaderboard();
    const row = board.rows[0]!;
    expect(finalCsv(row, row.seeds[0]!.seed)).toBe(text);
    // README: Sonnet 4.6 (Claude Code) 16.4.
    expect(Math.round(row.score * 10) / 10).toBe(16.4);

    const io = capture();
    expect(await runCli(['leaderboard', '--json'], io)).toBe(0);
    const printed = leaderboardSchema.parse(JSON.parse(io.stdout));
    expect(printed.weights).toEqual(PTB_WEIGHTS);
    expect(printed.rows[0]).toMatchObject({ label: row.label, score: row.score, n: 1, std: null });
    expect(Object.keys(printed.rows[0]!.cells)).toHaveLength(28);

    const human = capture();
    expect(await runCli(['leaderboard', '--benchmark', 'gsm8k', '--base-model', 'Qwen3-4B-Base'], human)).toBe(0);
    expect(human.stdout).toMatch(/claude-code · claude-sonnet-4-6 · 10h .* 41\.8 /);
    const bad = capture();
    expect(await runCli(['leaderboard', '--benchmark', 'mmlu'], bad)).toBe(2);
    expect(bad.stderr).toMatch(/unknown benchmark "mmlu"/);
  });

  it('shows bad input as problems on the runs and scores around them', async () => {
    const text = read('website/final_claude_non_api_claude-sonnet-4-6_10h.csv');
    const results = path.join(work, 'results');
    await layOut(results, 'claude_non_api_claude-sonnet-4-6_10h_run1', text, (bench, model) =>
      bench === 'aime2025' && model === 'Qwen3-4B-Base'
        ? { metrics: '{"accuracy": 0.9,' }
        : bench === 'gpqamain' && model === 'Qwen3-4B-Base'
          ? { metrics: '{"accuracy": 31.0}' }
          : bench === 'humaneval' && model === 'gemma-3-4b-pt'
            ? { contamination: 'contamination detected' }
            : {},
    );
    const method = path.join(results, 'claude_non_api_claude-sonnet-4-6_10h_run1');
    // Unknown benchmark, unknown base model, and an older run of a cell the seed already has.
    for (const [folder, accuracy] of [
      ['mmlu_Qwen_Qwen3-4B-Base_1', 0.5],
      ['gsm8k_meta-llama_Llama-3-8B_2', 0.5],
      ['gsm8k_Qwen_Qwen3-4B-Base_3', 0.99],
    ] as const) {
      await mkdir(path.join(method, folder), { recursive: true });
      await writeFile(path.join(method, folder, 'metrics.json'), JSON.stringify({ accuracy }));
    }
    const imported = await importPtbResults(runsDir, results);
    const idOf = (suffix: string): string => imported.imported.find((r) => r.folder.endsWith(suffix))!.id;

    const board = await service.leaderboard();
    const problems = new Map(board.problems.map((p) => [p.runId, p.message]));
    expect(problems.get(idOf('aime2025_Qwen_Qwen3-4B-Base_1007'))).toMatch(/not JSON/);
    expect(problems.get(idOf('gpqamain_Qwen_Qwen3-4B-Base_1010'))).toMatch(/31 is outside 0–1/);
    expect(problems.get(idOf('mmlu_Qwen_Qwen3-4B-Base_1'))).toMatch(/unknown benchmark "mmlu"/);
    expect(problems.get(idOf('gsm8k_meta-llama_Llama-3-8B_2'))).toMatch(/unknown base model/);
    expect(problems.get(idOf('gsm8k_Qwen_Qwen3-4B-Base_3'))).toMatch(/duplicate of run/);

    const row = board.rows[0]!;
    const humaneval = row.cells[cellKey('humaneval', 'gemma-3-4b-pt')]!;
    expect(humaneval).toMatchObject({ fallback: true, flagged: true });
    expect(humaneval.runs[0]!.reasons.join(' ')).toMatch(/judge: contamination/);
    const clean = (await (async () => {
      const other = path.join(work, 'clean');
      await layOut(other, 'claude_non_api_claude-sonnet-4-6_10h_run1', text);
      const s = new LeaderboardService({
        runsDir: path.join(work, 'home2'),
        trajectory: new TrajectoryService(path.join(work, 'home2')),
      });
      await importPtbResults(path.join(work, 'home2'), other);
      return s.leaderboard();
    })())!.rows[0]!.score;
    const delta = (b: string, m: string, published: number): number =>
      (PTB_WEIGHTS[b]! * (AGGREGATED_BASELINE[m]![b]! - published) * 100) / 4;
    expect(row.score).toBeCloseTo(
      clean +
        delta('aime2025', 'Qwen3-4B-Base', 0.03333333333333333) +
        delta('gpqamain', 'Qwen3-4B-Base', 0.31026785714285715) +
        delta('humaneval', 'gemma-3-4b-pt', 0.4268292682926829),
      9,
    );
  });

  it('compares two runs of one cell from two seeds, through `ptw run compare`', async () => {
    const results = path.join(work, 'results');
    const csv = 'model,gsm8k\r\nQwen3-4B-Base,0.5\r\n';
    await layOut(results, 'codex_non_api_high_gpt-5.4_10h_run1', csv);
    await layOut(results, 'codex_non_api_high_gpt-5.4_10h_run2', csv.replace('0.5', '0.625'), () => ({
      prompt: 'A different prompt.\n',
    }));
    const imported = await importPtbResults(runsDir, results);
    const [a, b] = imported.imported.map((r) => r.id);

    const comparison = runComparisonSchema.parse(await service.compare(a!, b!));
    expect(comparison.sameCell).toBe(true);
    // Imported: no host to act on, whatever the folder named.
    expect(comparison.a).toMatchObject({ host: null, hostRunDir: null });
    expect(comparison.metrics).toEqual([{ name: 'accuracy', a: 0.5, b: 0.625, delta: 0.125 }]);
    expect(comparison.a).toMatchObject({
      benchmark: 'gsm8k',
      baseModel: 'Qwen3-4B-Base',
      usedSeconds: 18_000,
      score: 50,
    });
    expect(comparison.a.prompt).toBe('Train Qwen3-4B-Base for gsm8k.\n');
    expect(comparison.b.prompt).toBe('A different prompt.\n');
    expect(comparison.b.verdict.state).toBe('clean');

    const board = await service.leaderboard({ baseModels: ['Qwen3-4B-Base'] });
    const row = board.rows[0]!;
    expect(row).toMatchObject({ n: 2, variant: 'codex_non_api_high_gpt-5.4_10h' });
    expect(row.benchmarks.gsm8k!.mean).toBeCloseTo(56.25, 10);
    expect(row.cells[cellKey('gsm8k', 'Qwen3-4B-Base')]!.std).toBeCloseTo(Math.SQRT1_2 * 12.5, 10);

    const io = capture();
    expect(await runCli(['run', 'compare', a!, b!], io)).toBe(0);
    expect(io.stdout).toMatch(/accuracy\s+0\.5000\s+0\.6250\s+0\.1250/);
    expect(io.stdout).toMatch(/prompts: differ/);
    const missing = capture();
    expect(await runCli(['run', 'compare', a!, 'r-20260101-000000-zzzz'], missing)).toBe(2);
  });

  it('splits a configuration name into the configuration and its seed', () => {
    expect(splitConfigName('codex_non_api_high_gpt-5.4_10h_run1')).toEqual({
      config: 'codex_non_api_high_gpt-5.4_10h',
      seed: 'run1',
      gpus: 1,
    });
    expect(splitConfigName('claude_claude-opus-4-6_10h_run1_old_container').seed).toBe('run1_old_container');
    expect(splitConfigName('claude_x_5h_2gpu_v3')).toEqual({ config: 'claude_x_5h_2gpu', seed: 'v3', gpus: 2 });
    expect(splitConfigName('claude_non_api_claude-sonnet-4-6_10h')).toMatchObject({ seed: 'run' });
  });

  it("scores this app's own runs: seeds in time order, integrity verdicts, GPUs, cost from the trace", async () => {
    let n = 0;
    const own = async (o: {
      benchmark: string;
      baseModel: string;
      metrics?: string;
      verdict?: unknown;
      status?: string;
      gpus?: number[];
      trace?: string;
      files?: Array<{ path: string; sha256: string }>;
    }): Promise<string> => {
      n++;
      const id = `r-20260301-10000${n}-own${n}`;
      const dir = path.join(runsDir, id);
      await mkdir(path.join(dir, 'eval'), { recursive: true });
      const startedAt = Date.parse('2026-03-01T10:00:00Z') + n * 60_000;
      const spec = {
        host: 'gpu1',
        task: { kind: 'ptb', benchmark: o.benchmark, baseModel: o.baseModel },
        agent: { id: 'claude-code', model: 'claude-opus-4-6' },
        budgetSeconds: 7200,
        gpus: o.gpus ?? [0],
        label: `own ${n}`,
      };
      await writeFile(
        path.join(dir, 'run.json'),
        JSON.stringify({
          schema: 1,
          id,
          createdAt: new Date(startedAt).toISOString(),
          spec,
          supervisor: { agentContainerId: 'c', budgetSeconds: 7200 },
          launch: { promptSha256: 'ab'.repeat(32) },
        }),
      );
      await writeFile(
        path.join(dir, 'state.json'),
        JSON.stringify({
          status: o.status ?? 'scored',
          heartbeatAt: startedAt + 3_600_000,
          startedAt,
          deadline: startedAt + 7_200_000,
          stoppedAt: startedAt + 3_600_000,
          stopReason: 'agent-exited',
        }),
      );
      await writeFile(
        path.join(dir, 'sync.json'),
        JSON.stringify({ schema: 1, runId: id, host: 'gpu1', hostRunDir: `/runs/${id}`, complete: true }),
      );
      if (o.metrics !== undefined) await writeFile(path.join(dir, 'eval', 'metrics.json'), o.metrics);
      if (o.verdict !== undefined) {
        await mkdir(path.join(dir, 'integrity'), { recursive: true });
        await writeFile(path.join(dir, 'integrity', 'verdict.json'), JSON.stringify(o.verdict));
      }
      if (o.trace !== undefined) await writeFile(path.join(dir, 'agent-stream.jsonl'), o.trace);
      if (o.files) {
        await writeFile(
          path.join(dir, 'final-model-manifest.json'),
          JSON.stringify({
            schema: 1,
            root: `/runs/${id}/workspace/final_model`,
            computedAt: startedAt,
            exists: true,
            files: o.files.map((f) => ({ ...f, size: 10 })),
            totalBytes: 10 * o.files.length,
          }),
        );
      }
      return id;
    };
    const result =
      '{"type":"result","subtype":"success","total_cost_usd":2.5,"usage":{"input_tokens":100,"output_tokens":50}}';
    const first = await own({
      benchmark: 'gsm8k',
      baseModel: 'Qwen/Qwen3-4B-Base',
      metrics: '{"accuracy": 0.6}',
      trace: `{"type":"system","subtype":"init"}\n${result}\n`,
      files: [
        { path: 'config.json', sha256: 'a'.repeat(64) },
        { path: 'model.safetensors', sha256: 'b'.repeat(64) },
      ],
    });
    const second = await own({
      benchmark: 'gsm8k',
      baseModel: 'Qwen3-4B-Base',
      metrics: '{"accuracy": 0.7}',
      gpus: [0, 1],
      files: [
        { path: 'config.json', sha256: 'a'.repeat(64) },
        { path: 'model.safetensors', sha256: 'c'.repeat(64) },
        { path: 'tokenizer.json', sha256: 'd'.repeat(64) },
      ],
    });
    const flagged = await own({
      benchmark: 'aime2025',
      baseModel: 'Qwen/Qwen3-4B-Base',
      metrics: '{"accuracy": 0.9}',
      verdict: {
        run: 'x',
        verdict: 'flagged',
        flags: [{ kind: 'contamination', severity: 'high', summary: '30 AIME problems in train.jsonl' }],
        checks: [],
      },
    });
    await own({ benchmark: 'humaneval', baseModel: 'Qwen/Qwen3-4B-Base', status: 'running' });
    await own({ benchmark: 'rehearsal', baseModel: 'Qwen/Qwen3-4B-Base', metrics: '{"accuracy": 0.5}' });
    // A damaged record is a problem, not a missing row.
    await mkdir(path.join(runsDir, 'r-20260301-120000-bad1'), { recursive: true });
    await writeFile(path.join(runsDir, 'r-20260301-120000-bad1', 'sync.json'), '{"schema": 2}');

    const board = await service.leaderboard({ baseModels: ['Qwen3-4B-Base'] });
    const row = board.rows.find((r) => r.kind === 'agent')!;
    expect(row).toMatchObject({ origin: 'own', label: 'claude-code · claude-opus-4-6 · 2h', n: 2 });
    expect(row.seeds.map((s) => s.seed)).toEqual(['#1', '#2']);
    const gsm8k = row.cells[cellKey('gsm8k', 'Qwen3-4B-Base')]!;
    expect(gsm8k.runs.map((r) => [r.runId, r.seed, r.value])).toEqual([
      [first, '#1', 60],
      [second, '#2', 70],
    ]);
    expect(gsm8k.runs[0]!.reasons).toEqual(['not checked for integrity yet (no verdict)']);
    const aime = row.cells[cellKey('aime2025', 'Qwen3-4B-Base')]!;
    expect(aime.runs[0]).toMatchObject({ runId: flagged, fallback: 'flagged', verdict: { source: 'integrity' } });
    expect(aime.runs[0]!.reasons[0]).toMatch(/integrity: contamination \(30 AIME problems/);
    expect(aime.value).toBeCloseTo(AGGREGATED_BASELINE['Qwen3-4B-Base']!.aime2025! * 100, 10);
    // Seed 2 has no aime2025 run: it counts the baseline there too, so the row is incomplete.
    expect(row.complete).toBe(false);
    // One hour each: 1 GPU, 2 GPUs, 1 GPU.
    expect(row.gpuHours).toBeCloseTo(4, 10);
    expect(row.costUsd).toBe(2.5);
    expect(row.tokens).toBe(150);
    expect(board.problems).toEqual([
      { runId: 'r-20260301-120000-bad1', message: expect.stringMatching(/damaged.*left out/) },
      { runId: expect.any(String), message: expect.stringMatching(/unknown benchmark "rehearsal"/) },
    ]);

    const comparison = await service.compare(first, second);
    expect(comparison.finalModels).toEqual({
      identical: false,
      same: 1,
      differ: 1,
      onlyA: [],
      onlyB: ['tokenizer.json'],
    });
    expect(comparison.a).toMatchObject({ usedSeconds: 3600, gpuCount: 1, gpuHours: 1, score: 60 });
    // Where each run is, so the view can diff their weights and rows on that host.
    expect(comparison.a).toMatchObject({ host: 'gpu1', hostRunDir: `/runs/${first}` });
    expect(comparison.b).toMatchObject({ gpuCount: 2, gpuHours: 2, prompt: null });
    expect(comparison.b.promptNote).toMatch(/stays on the host .*sha256 abababababab/);
    expect(comparison.a.steps.costUsd).toBe(2.5);
  });
});
