import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  integrityDecisionSchema,
  integrityRecordSchema,
  type IntegrityDecision,
  type IntegrityRecord,
  type IntegrityState,
} from '../../shared/contract-integrity';
import type { RunDetail } from '../../shared/contract';
import { AppError } from '../../shared/errors';
import type { HostProfile } from '../../shared/hosts';
import {
  flagsFirstSeen,
  parseHelperReport,
  verdictOf,
  type HelperReport,
} from '../../shared/integrity/integrity-verdict';
import { credentialEnvNames, getAgent, isAgentId } from '../../shared/runs/agent-catalog';
import { locateResourcesDir } from '../catalog/rehearsal-resources';
import { hfCacheCandidates } from '../hosts/hf-cache';
import { hostPackageCommand } from '../host-package/host-package';
import { HostPackageUploader, localHostPackage } from '../host-package/host-package-upload';
import type { HostSession } from '../hosts/host-exec-types';
import { integrityModelPairs } from '../runs/integrity-plan';
import { INTEGRITY_RECORD_FILE, INTEGRITY_VERDICT_FILE } from '../runs/run-layout';
import { RunMirror } from '../runs/run-mirror';
import { readJsonIfAny as readJson } from '../services/ptw-home';
import type { RunHost } from '../runs/run-host';

/**
 * Integrity passes over a run on request (issue 13; a run on a host also gets the supervisor's own live and final
 * passes, ptw_host/integrity_watch.py, whose verdict the run mirror brings). The checks are the host package's `integrity` subcommand
 * (resources/host/ptw_host/integrity/): for a run on a host the package (one zipapp) is uploaded into the run folder's
 * `.integrity/` and run there with the host's python3 (the workspace, trace and checkpoints stay on the host; one JSON
 * report comes back); an imported run has no host (runs/run-host.ts), so the same package runs on this machine over what the import left (the record, or the PostTrainBench folder it came from)
 * and the references the user names. The verdict goes to the run's local record, `integrity/verdict.json` (what
 * the leaderboard reads), with the full record and a person's decisions beside it.
 */

/** The host package's subcommand that runs the checks (resources/host/ptw_host/integrity/). */
export const INTEGRITY_SUBCOMMAND = 'integrity';
export const VERDICT_FILE = INTEGRITY_VERDICT_FILE;
export const RECORD_FILE = INTEGRITY_RECORD_FILE;
export const DECISIONS_FILE = 'integrity/decisions.json';
const HOST_DIR = '.integrity';
const PASS_TIMEOUT_MS = 60 * 60_000;
/** The report is one JSON line; evidence is capped by the helper, so this is far above any real one. */
const MAX_REPORT_BYTES = 64 * 1024 * 1024;

export interface IntegrityOverrides {
  /** A Hugging Face cache with the base and instruct models. */
  references?: string | undefined;
  testSets?: string | undefined;
  ptbCheckout?: string | undefined;
}

export interface IntegrityServiceOptions {
  runsDir: string;
  run(id: string): Promise<RunDetail>;
  /** The run's host and folder there; refused for an imported run (runs/run-host.ts). */
  runHost(id: string): Promise<RunHost>;
  session(host: string): Promise<HostSession>;
  profile(host: string): Promise<HostProfile>;
  resourcesDir?: string | undefined;
  /** The python3 that checks imported runs here. */
  localPython?: string;
  onChanged?(runId: string, verdict: IntegrityRecord['verdict']['verdict'] | null): void;
}

/** The arguments of one helper run; every path is passed as one argv word (quoted for the host's shell). */
export interface HelperArgs {
  root: string;
  workspace?: string | undefined;
  finalModel?: string | undefined;
  traces: string[];
  cleanTask?: string | undefined;
  benchmark?: string | undefined;
  baseModel?: string | undefined;
  testSetsDirs: string[];
  ptbCheckout?: string | undefined;
  hfCaches: string[];
  ownKeys: string[];
  pairs: string[];
  /** Where a pass keeps what it read, so the next pass reads only files that changed (outside the workspace). */
  cache?: string | undefined;
}

export function helperArgv(a: HelperArgs): string[] {
  const opt = (flag: string, value: string | undefined): string[] => (value ? [flag, value] : []);
  return [
    'check',
    '--root',
    a.root,
    ...opt('--workspace', a.workspace),
    ...opt('--final-model', a.finalModel),
    ...a.traces.flatMap((t) => ['--trace', t]),
    ...opt('--clean-task', a.cleanTask),
    ...opt('--benchmark', a.benchmark),
    ...opt('--base-model', a.baseModel),
    ...a.testSetsDirs.flatMap((d) => ['--test-sets-dir', d]),
    ...opt('--ptb-checkout', a.ptbCheckout),
    ...a.hfCaches.flatMap((c) => ['--hf-cache', c]),
    ...a.ownKeys.flatMap((k) => ['--own-key', k]),
    ...a.pairs.flatMap((p) => ['--pair', p]),
    ...opt('--cache', a.cache),
  ];
}

interface TaskFacts {
  benchmark?: string | undefined;
  baseModel?: string | undefined;
  ownKeys: string[];
}

/** The benchmark, base model and the agent's own key names, from the run's spec and launch record. */
export function taskFacts(detail: RunDetail, runJson: unknown): TaskFacts {
  const spec = detail.spec as { task?: Record<string, unknown>; agent?: { id?: unknown } } | null;
  const task = spec?.task ?? {};
  const launch = (runJson as { launch?: { secretNames?: unknown } } | null)?.launch;
  const ownKeys = new Set<string>();
  if (Array.isArray(launch?.secretNames)) for (const n of launch.secretNames) if (typeof n === 'string') ownKeys.add(n);
  const agentId = typeof spec?.agent?.id === 'string' ? spec.agent.id : '';
  if (isAgentId(agentId)) for (const n of credentialEnvNames(getAgent(agentId))) ownKeys.add(n);
  // PostTrainBench folders name their scaffold loosely (claude, codex, gemini…).
  const loose: [RegExp, string[]][] = [
    [/claude/i, ['ANTHROPIC_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN']],
    [/codex|gpt|openai/i, ['OPENAI_API_KEY', 'CODEX_API_KEY']],
    [/gemini/i, ['GEMINI_API_KEY']],
    [/opencode/i, ['OPENCODE_API_KEY']],
  ];
  for (const [re, names] of loose) if (re.test(agentId)) for (const n of names) ownKeys.add(n);
  return {
    benchmark: typeof task.benchmark === 'string' ? task.benchmark : undefined,
    baseModel: typeof task.baseModel === 'string' ? task.baseModel : undefined,
    ownKeys: [...ownKeys],
  };
}

async function writeAtomic(file: string, data: string): Promise<void> {
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, data, { mode: 0o600 });
  await rename(tmp, file);
}

async function isRealDir(p: string): Promise<boolean> {
  const s = await lstat(p).catch(() => null);
  return !!s && s.isDirectory() && !s.isSymbolicLink();
}

function runLocal(python: string, argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      python,
      argv,
      { maxBuffer: MAX_REPORT_BYTES, timeout: PASS_TIMEOUT_MS, windowsHide: true },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : null
          : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) || (err && code === null ? String(err) : '') });
      },
    );
  });
}

export class IntegrityService {
  readonly #o: IntegrityServiceOptions;
  #uploader: HostPackageUploader | undefined;
  readonly #running = new Map<string, Promise<IntegrityState>>();

  constructor(options: IntegrityServiceOptions) {
    this.#o = options;
  }

  #resources(): string {
    return this.#o.resourcesDir ?? locateResourcesDir();
  }

  #packages(): HostPackageUploader {
    this.#uploader ??= new HostPackageUploader(() => this.#resources());
    return this.#uploader;
  }

  /** Runs a pass (one at a time per run; a second request waits for the one running). */
  check(id: string, overrides: IntegrityOverrides = {}): Promise<IntegrityState> {
    const running = this.#running.get(id);
    if (running) return running;
    const pass = this.#check(id, overrides).finally(() => this.#running.delete(id));
    this.#running.set(id, pass);
    return pass;
  }

  async #check(id: string, overrides: IntegrityOverrides): Promise<IntegrityState> {
    const mirror = new RunMirror(this.#o.runsDir, id);
    const sync = await mirror.readSync();
    if (!sync) throw new AppError('NOT_FOUND', `No run ${id} here (ptw run ls lists runs).`);
    const started = Date.now();
    let report: HelperReport;
    let where: IntegrityRecord['where'];
    let source: string;
    if (sync.imported) {
      where = 'local';
      ({ report, source } = await this.#checkLocal(mirror, sync.imported, overrides));
    } else {
      where = 'host';
      ({ report, source } = await this.#checkOnHost(id, overrides));
    }
    const verdict = {
      run: id,
      verdict: verdictOf(report.checks, report.flags),
      flags: report.flags,
      checks: report.checks,
    };
    const previous = integrityRecordSchema.safeParse(await readJson(mirror.file(RECORD_FILE)));
    const firstSeen = flagsFirstSeen(report.flags, previous.success ? previous.data.firstSeen : {}, Date.now());
    const record: IntegrityRecord = integrityRecordSchema.parse({
      firstSeen,
      verdict,
      checkedAt: Date.now(),
      where,
      source,
      skipped: report.skipped,
      skippedCount: report.skippedCount,
      seconds: report.seconds || (Date.now() - started) / 1000,
      details: report.details,
    });
    await mkdir(mirror.file('integrity'), { recursive: true, mode: 0o700 });
    await writeAtomic(mirror.file(RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
    await writeAtomic(mirror.file(VERDICT_FILE), `${JSON.stringify(verdict, null, 2)}\n`);
    this.#o.onChanged?.(id, verdict.verdict);
    return this.get(id);
  }

  async #checkOnHost(id: string, overrides: IntegrityOverrides): Promise<{ report: HelperReport; source: string }> {
    // The gate first: it refuses an imported run before anything else is read.
    const target = await this.#o.runHost(id);
    const detail = await this.#o.run(id);
    const mirror = new RunMirror(this.#o.runsDir, id);
    const facts = taskFacts(detail, await readJson(mirror.file('run.json')));
    const profile = await this.#o.profile(target.host);
    const session = await this.#o.session(target.host);
    const runDir = target.hostRunDir;
    const dir = path.posix.join(runDir, HOST_DIR);
    const pyz = await this.#packages().ensure(session, target.host, dir);
    const runRoot = path.posix.dirname(runDir);
    const argv = helperArgv({
      root: runDir,
      workspace: path.posix.join(runDir, 'workspace'),
      traces: [path.posix.join(runDir, 'record', 'agent-stream.jsonl')],
      cleanTask: path.posix.join(runDir, 'task'),
      benchmark: facts.benchmark,
      baseModel: facts.baseModel,
      testSetsDirs: [
        ...(overrides.testSets ? [overrides.testSets] : []),
        ...(profile.testSets ? [profile.testSets] : []),
        path.posix.join(runRoot, 'benchmarks'),
      ],
      ptbCheckout: overrides.ptbCheckout ?? profile.ptbCheckout,
      hfCaches: overrides.references ? [overrides.references] : hfCacheCandidates(profile),
      ownKeys: facts.ownKeys,
      pairs: integrityModelPairs(path.dirname(this.#o.runsDir)),
      cache: path.posix.join(dir, 'cache.json'),
    });
    const result = await session.exec(hostPackageCommand(pyz, INTEGRITY_SUBCOMMAND, argv), {
      timeoutMs: PASS_TIMEOUT_MS,
    });
    if (result.code === 127 || /python3: (command )?not found/.test(result.stderr)) {
      throw new AppError('HOST_REQUIREMENT_MISSING', `${target.host} has no python3, which the integrity checks need.`);
    }
    return { report: this.#parse(result.stdout, result.stderr, result.code), source: `${target.host}:${runDir}` };
  }

  async #checkLocal(
    mirror: RunMirror,
    imported: { kind: 'bundle' | 'ptb'; source: string },
    overrides: IntegrityOverrides,
  ): Promise<{ report: HelperReport; source: string }> {
    const detail = await this.#o.run(mirror.id);
    const facts = taskFacts(detail, await readJson(mirror.file('run.json')));
    // A PostTrainBench folder the user imported from, still there, holds the agent's task/ folder and final_model/
    // (the import copies neither); it is only read. A bundle has only its record.
    let args: Omit<
      HelperArgs,
      'benchmark' | 'baseModel' | 'testSetsDirs' | 'ptbCheckout' | 'hfCaches' | 'ownKeys' | 'pairs'
    >;
    let source: string;
    if (imported.kind === 'ptb' && path.isAbsolute(imported.source) && (await isRealDir(imported.source))) {
      const folder = imported.source;
      args = {
        root: folder,
        workspace: path.join(folder, 'task'),
        finalModel: path.join(folder, 'final_model'),
        traces: [path.join(folder, 'solve_out.txt')],
      };
      source = folder;
    } else {
      args = {
        root: mirror.dir,
        workspace: (await isRealDir(mirror.file('ptb'))) ? mirror.file('ptb') : undefined,
        traces: [mirror.file('agent-stream.jsonl')],
      };
      source = `${mirror.dir} (the imported record: no workspace or weights)`;
    }
    const argv = helperArgv({
      ...args,
      benchmark: facts.benchmark,
      baseModel: facts.baseModel,
      testSetsDirs: overrides.testSets ? [overrides.testSets] : [],
      ptbCheckout: overrides.ptbCheckout,
      hfCaches: overrides.references ? [overrides.references] : ['~/.cache/huggingface/hub'],
      ownKeys: facts.ownKeys,
      pairs: integrityModelPairs(path.dirname(this.#o.runsDir)),
      cache: mirror.file('integrity/cache.json'),
    });
    await mkdir(mirror.file('integrity'), { recursive: true, mode: 0o700 });
    // The zipapp written once into the app's folder (PTW_HOME/host-package/), run with this machine's python3.
    const pyz = await localHostPackage(this.#resources(), path.join(path.dirname(this.#o.runsDir), 'host-package'));
    const result = await runLocal(this.#o.localPython ?? 'python3', [pyz, INTEGRITY_SUBCOMMAND, ...argv]);
    if (result.code === null && /ENOENT/.test(result.stderr)) {
      throw new AppError('HOST_REQUIREMENT_MISSING', 'This machine has no python3, which checks an imported run.');
    }
    return { report: this.#parse(result.stdout, result.stderr, result.code), source };
  }

  #parse(stdout: string, stderr: string, code: number | null): HelperReport {
    try {
      return parseHelperReport(JSON.parse(stdout) as unknown);
    } catch (err) {
      throw new AppError(
        'INTERNAL',
        `ptw-host.pyz ${INTEGRITY_SUBCOMMAND} failed (exit ${code ?? 'signal'}): ${stderr.trim().slice(-2000) || (err instanceof Error ? err.message : String(err))}`,
      );
    }
  }

  async get(id: string): Promise<IntegrityState> {
    const mirror = new RunMirror(this.#o.runsDir, id);
    if (!(await mirror.exists())) throw new AppError('NOT_FOUND', `No run ${id} here (ptw run ls lists runs).`);
    const raw = await readJson(mirror.file(RECORD_FILE));
    const parsed = raw === undefined ? null : integrityRecordSchema.safeParse(raw);
    const decisions = await this.#decisions(mirror);
    const judge: IntegrityState['judge'] = [];
    const ptb = (await readJson(mirror.file('ptb/import.json'))) as { judgements?: unknown } | undefined;
    if (ptb && Array.isArray(ptb.judgements)) {
      for (const j of ptb.judgements as { file?: unknown; flagged?: unknown; text?: unknown }[]) {
        judge.push({
          file: String(j.file ?? ''),
          flagged: typeof j.flagged === 'boolean' ? j.flagged : null,
          text: String(j.text ?? ''),
        });
      }
    }
    return { runId: id, record: parsed?.success ? parsed.data : null, decisions, judge };
  }

  async #decisions(mirror: RunMirror): Promise<IntegrityDecision[]> {
    const raw = await readJson(mirror.file(DECISIONS_FILE));
    if (!Array.isArray(raw)) return [];
    return raw.flatMap((d) => {
      const parsed = integrityDecisionSchema.safeParse(d);
      return parsed.success ? [parsed.data] : [];
    });
  }

  async decide(
    id: string,
    flag: string,
    decision: IntegrityDecision['decision'] | null,
    note: string,
  ): Promise<IntegrityState> {
    const mirror = new RunMirror(this.#o.runsDir, id);
    if (!(await mirror.exists())) throw new AppError('NOT_FOUND', `No run ${id} here (ptw run ls lists runs).`);
    const rest = (await this.#decisions(mirror)).filter((d) => d.flag !== flag);
    const next = decision ? [...rest, { flag, decision, note, at: Date.now() }] : rest;
    await mkdir(mirror.file('integrity'), { recursive: true, mode: 0o700 });
    await writeAtomic(mirror.file(DECISIONS_FILE), `${JSON.stringify(next, null, 2)}\n`);
    const state = await this.get(id);
    this.#o.onChanged?.(id, state.record?.verdict.verdict ?? null);
    return state;
  }
}
