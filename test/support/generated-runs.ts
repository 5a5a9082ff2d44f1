// Run folders in a PTW_HOME for the Runs list at scale (the runs-list bench, the runs-list e2e test): finished
// imported runs laid out as `ptw import ptb` leaves them (run.json, state.json, sync.json; an integrity verdict for
// some), spread deterministically over hosts, agents, agent models, benchmarks, base models, statuses and days.
// Imported runs are never synced with a host, so `ptw serve` over them stays offline.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { syncStateSchema } from '../../src/main/runs/run-mirror';

export const GENERATED_HOSTS = ['gpu-a', 'gpu-b', 'gpu-c', 'cluster-d'] as const;
export const GENERATED_AGENTS = [
  { id: 'claude-code', model: 'claude-opus-4-6' },
  { id: 'claude-code', model: 'claude-sonnet-4-6' },
  { id: 'codex', model: 'gpt-5.4' },
  { id: 'gemini-cli', model: 'gemini-3-pro' },
] as const;
export const GENERATED_BENCHMARKS = ['gsm8k', 'humaneval', 'aime2025', 'gpqamain', 'bfcl', 'arenahardwriting'] as const;
export const GENERATED_BASE_MODELS = [
  'Qwen/Qwen3-1.7B-Base',
  'Qwen/Qwen3-4B-Base',
  'HuggingFaceTB/SmolLM3-3B-Base',
  'google/gemma-3-4b-pt',
] as const;
const STATUSES = ['scored', 'scored', 'scored', 'failed', 'no-model', 'evaluation-failed'] as const;

export interface GeneratedRun {
  readonly id: string;
  readonly label: string;
  readonly host: string;
  readonly agent: string;
  readonly model: string;
  readonly benchmark: string;
  readonly baseModel: string;
  readonly status: string;
  readonly createdAt: string;
  readonly score: number | null;
  readonly flagged: boolean;
}

/** The i-th run of a generated set (pure: the same i gives the same run). */
export function generatedRun(i: number, start = Date.UTC(2026, 0, 1)): GeneratedRun {
  const created = new Date(start + i * 37 * 60_000);
  const stamp = created.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const agent = GENERATED_AGENTS[i % GENERATED_AGENTS.length]!;
  const benchmark = GENERATED_BENCHMARKS[Math.floor(i / 4) % GENERATED_BENCHMARKS.length]!;
  const baseModel = GENERATED_BASE_MODELS[Math.floor(i / 24) % GENERATED_BASE_MODELS.length]!;
  const status = STATUSES[(i * 7) % STATUSES.length]!;
  return {
    id: `r-${stamp}-${(i % 65536).toString(16).padStart(4, '0')}`,
    label: `seed ${i % 3} ${benchmark} ${baseModel.split('/')[1]} #${i}`,
    host: GENERATED_HOSTS[Math.floor(i / 3) % GENERATED_HOSTS.length]!,
    agent: agent.id,
    model: agent.model,
    benchmark,
    baseModel,
    status,
    createdAt: created.toISOString(),
    score: status === 'scored' ? ((i * 37) % 1000) / 10 : null,
    flagged: i % 17 === 5,
  };
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFile(file, JSON.stringify(value, null, 2) + '\n');
}

/** Writes `count` run folders into `runsDir`; returns what each one is. */
export async function writeGeneratedRuns(runsDir: string, count: number): Promise<GeneratedRun[]> {
  const runs = Array.from({ length: count }, (_, i) => generatedRun(i));
  // A few hundred folders at a time: enough to keep the disk busy without running out of file handles.
  for (let at = 0; at < runs.length; at += 200) {
    await Promise.all(runs.slice(at, at + 200).map((run) => writeRunFolder(runsDir, run)));
  }
  return runs;
}

async function writeRunFolder(runsDir: string, run: GeneratedRun): Promise<void> {
  const dir = path.join(runsDir, run.id);
  await mkdir(path.join(dir, 'integrity'), { recursive: true });
  const source = `/results/${run.agent}_${run.model}_10h_run1/${run.benchmark}_${run.baseModel.replace('/', '_')}`;
  const at = Date.parse(run.createdAt);
  await writeJson(path.join(dir, 'run.json'), {
    schema: 1,
    id: run.id,
    createdAt: run.createdAt,
    spec: {
      host: run.host,
      task: { kind: 'ptb', benchmark: run.benchmark, baseModel: run.baseModel },
      agent: { id: run.agent, model: run.model },
      budgetSeconds: 36000,
      label: run.label,
    },
    supervisor: { agentContainerId: null, budgetSeconds: 36000 },
    import: { kind: 'ptb', source, importedAt: at },
  });
  await writeJson(path.join(dir, 'state.json'), {
    status: run.status,
    supervisorPid: null,
    heartbeatAt: at,
    agentContainerId: null,
    startedAt: null,
    deadline: null,
    warningsSent: [],
    stoppedAt: null,
    stopReason: 'agent-exited',
    exitCode: null,
    evaluation: {
      attempts: 1,
      outcome: run.status === 'scored' ? 'scored' : null,
      metrics: run.score === null ? null : { accuracy: run.score / 100 },
    },
  });
  // The rest of sync.json from the schema's defaults, as the app reads it.
  await writeJson(
    path.join(dir, 'sync.json'),
    syncStateSchema.parse({
      schema: 1,
      runId: run.id,
      host: run.host,
      hostRunDir: source,
      syncedAt: at,
      complete: true,
      supervisorAlive: false,
      imported: { kind: 'ptb', source, at, ranSeconds: 28_800 },
    }),
  );
  await writeJson(path.join(dir, 'integrity', 'verdict.json'), {
    verdict: run.flagged ? 'flagged' : 'clean',
    flags: run.flagged ? [{ kind: 'benchmark-data', severity: 'high', summary: 'read the test split' }] : [],
  });
}
