import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { AppError } from '../../shared/errors';
import type { HostProfile } from '../../shared/hosts';
import { NvidiaSmiParseError, parseComputeApps, parseGpuInventory } from '../../shared/parsers/nvidia-smi';
import {
  buildAgentCommand,
  getAgent,
  type AgentCredential,
  type AgentDefinition,
} from '../../shared/runs/agent-catalog';
import type { RunExperiment } from '../../shared/contract-runs';
import { formatByteSize } from '../../shared/runs/duration';
import { renderPrompt } from '../../shared/runs/prompt-template';
import { formatRunSpecProblems, runSpecWarnings, validateRunSpec, type RunSpec } from '../../shared/runs/run-spec';
import { runStateSchema, type RunState } from '../../shared/runs/run-status';
import { promptVars, REHEARSAL_TASK } from '../../shared/runs/task-catalog';
import { findPtbTask, readPtbCheckout, renderPtbPrompt } from '../catalog/ptb-checkout';
import { loadAgentFile, loadRehearsalResources } from '../catalog/rehearsal-resources';
import { loadHostPackage } from '../host-package/host-package';
import type { HostSession } from '../hosts/host-exec-types';
import { DEFAULT_DISK_THRESHOLDS, mapComputeAppsToGpus } from '../hosts/preflight-judges';
import type { SecretStore } from '../secrets/secret-store';
import { agentContainerLabels, buildAgentContainerConfig, type AgentContainerPlan } from './agent-container';
import {
  handOverScript,
  parseProbe,
  prepareScript,
  probeScript,
  pythonSupported,
  removeRunDirScript,
  resolveHostPath,
  startSupervisorScript,
  supervisorSecretsLine,
  MIN_PYTHON,
  type HostCopy,
  type HostProbe,
} from './host-scripts';
import {
  agentEnvironment,
  buildEvaluationPlan,
  buildRunJson,
  type RunJson,
  newRunId,
  PROMPT_PATH,
  specHash,
  TIMER_SCRIPT,
  type ResolvedTask,
} from './launch-plan';
import { integrityPlanFor } from './integrity-plan';
import { hostRunPaths, type HostRunPaths } from './run-layout';
import { RunMirror } from './run-mirror';
import { sandboxLimits, sandboxUserFor } from './sandbox-policy';
import {
  endpointHandOverScript,
  modelEndpointContainerConfig,
  probeAgentVersion,
  scriptedEnv,
  scriptedFoldersScript,
  scriptedRun,
  scriptedUploads,
  startModelEndpoint,
  type ScriptedRun,
} from './model-endpoint';
import { chooseSlurmGpus, slurmContainerName, submitSlurmRun, writeSchedulerRecord } from '../slurm/slurm-launch';

/**
 * Launching a run (docs/run-folder.md): everything is checked before anything is created on the host (spec, agent
 * key, python3, GPUs, image), then the run folder is laid out, the agent container created with the key in its
 * environment only, run.json written, the local mirror started, and the host supervisor started detached. From
 * then on the run needs nothing from this process. A launch that fails before the supervisor starts leaves nothing
 * behind (the folder and the container are removed; the container's config holds the key).
 */

export interface LaunchDeps {
  session(host: string): Promise<HostSession>;
  profile(host: string): Promise<HostProfile>;
  secrets: Pick<SecretStore, 'get'>;
  resourcesDir: string;
  runsDir: string;
  appVersion: string;
  now?: () => Date;
  /** How long to wait for the supervisor to report `running` (or `failed`). */
  startTimeoutMs?: number;
}

export interface LaunchResult {
  id: string;
  mirror: RunMirror;
  hostRunDir: string;
  state: RunState | null;
  warnings: string[];
}

/**
 * Task-dependent defaults a spec does not spell out: a rehearsal is a 5-minute CPU-only dry run with no need for
 * the internet, where a benchmark run gets PostTrainBench's 10 hours and an open network.
 */
export function applyTaskDefaults(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const spec = input as Record<string, unknown>;
  const task = spec.task as { kind?: unknown } | undefined;
  if (task?.kind !== 'rehearsal') return input;
  return {
    ...spec,
    ...(spec.budgetSeconds === undefined ? { budgetSeconds: REHEARSAL_TASK.defaultBudgetSeconds } : {}),
    ...(spec.network === undefined ? { network: false } : {}),
  };
}

export function validateForLaunch(input: unknown): { spec: RunSpec; warnings: string[] } {
  const result = validateRunSpec(applyTaskDefaults(input));
  if (!result.ok) {
    throw new AppError('INVALID_INPUT', `The run spec has problems:\n${formatRunSpecProblems(result.problems)}`);
  }
  return { spec: result.spec, warnings: runSpecWarnings(result.spec) };
}

/** How a key is named to the user: where to put it. */
function credentialHint(credential: AgentCredential): string {
  return credential.secretNames.map((n) => `PTW_SECRET_${n}`).join(' or ');
}

/**
 * The agent's own key from the secret store (the environment's PTW_SECRET_<NAME>, then the keychain), as the
 * variable its sandbox gets. Agents without credentials need none.
 */
export async function resolveAgentSecret(
  agent: AgentDefinition,
  secrets: Pick<SecretStore, 'get'>,
): Promise<{ env: string; name: string; value: string } | null> {
  if (agent.credentials.length === 0) return null;
  for (const credential of agent.credentials) {
    for (const name of credential.secretNames) {
      const found = await secrets.get(name);
      if (found) return { env: credential.env, name, value: found.value };
    }
  }
  const options = agent.credentials.map((c) => `${c.label} (${credentialHint(c)})`).join(', or ');
  throw new AppError(
    'SECRET_MISSING',
    `${agent.label} needs its key and none is set. Give it one of: ${options}. In the desktop app, store it under ` +
      `${agent.credentials[0]!.secretNames[0]} in the keychain instead; it only ever goes into the agent's container.`,
  );
}

/** Free space a rehearsal needs at the run root (its records and model are a few MB); a benchmark run needs what
 * preflight fails below ({@link DEFAULT_DISK_THRESHOLDS}). */
export const REHEARSAL_MIN_FREE_BYTES = 64 * 1024 * 1024;

/**
 * The grader keys an LLM-graded benchmark's evaluator needs (`required_api_keys` in the task's info), from the same
 * secret store as agent keys. They go to the supervisor on stdin and into the evaluation container only: never the
 * agent's sandbox, never a file. Refused before anything is created when one is missing: finding out after 10 hours
 * that the evaluation cannot run is too late.
 */
export async function resolveGraderKeys(
  task: { displayName: string; requiredApiKeys: readonly string[] },
  secrets: Pick<SecretStore, 'get'>,
): Promise<{ name: string; value: string }[]> {
  const keys: { name: string; value: string }[] = [];
  const missing: string[] = [];
  for (const name of task.requiredApiKeys) {
    const found = await secrets.get(name);
    if (found) keys.push({ name, value: found.value });
    else missing.push(name);
  }
  if (missing.length > 0) {
    throw new AppError(
      'SECRET_MISSING',
      `${task.displayName} is graded by an LLM: its evaluator needs ${missing.join(' and ')}. Set ${missing
        .map((n) => `PTW_SECRET_${n}`)
        .join(' and ')} (or store ${missing.length === 1 ? 'it' : 'them'} in the keychain in the desktop app); ` +
        `grader keys go only into the evaluation container, never the agent's sandbox.`,
    );
  }
  return keys;
}

/** GPUs for the run, decided from a fresh nvidia-smi on the host; throws naming what holds a busy one. */
export function chooseGpus(input: {
  host: string;
  requested: readonly number[];
  needsGpu: boolean;
  probe: HostProbe;
}): { gpus: number[]; sampleGpus: boolean } {
  const { host, requested, needsGpu, probe } = input;
  const wanted = requested.length > 0 || needsGpu;
  const what = requested.length > 0 ? `GPU ${requested.join(', ')} was requested` : 'this task needs a GPU';
  if (!probe.gpus) {
    if (!wanted) return { gpus: [], sampleGpus: false };
    throw new AppError('HOST_REQUIREMENT_MISSING', `${what}, but ${host} has no nvidia-smi (no NVIDIA driver?).`);
  }
  if (probe.gpus.code !== 0) {
    if (!wanted) return { gpus: [], sampleGpus: false };
    throw new AppError(
      'HOST_REQUIREMENT_MISSING',
      `${what}, but nvidia-smi on ${host} failed (exit ${probe.gpus.code}): ${probe.gpus.text.trim().slice(0, 300)}`,
    );
  }
  let inventory;
  try {
    inventory = parseGpuInventory(probe.gpus.text);
  } catch (err) {
    if (!(err instanceof NvidiaSmiParseError) || wanted) throw err;
    return { gpus: [], sampleGpus: false };
  }
  const sampleGpus = inventory.length > 0;
  if (!wanted) return { gpus: [], sampleGpus };
  if (!probe.apps || probe.apps.code !== 0) {
    throw new AppError(
      'HOST_REQUIREMENT_MISSING',
      `Could not list the processes on ${host}'s GPUs (nvidia-smi --query-compute-apps): ${probe.apps?.text.trim().slice(0, 300) ?? 'no output'}`,
    );
  }
  const occupancy = mapComputeAppsToGpus(inventory, parseComputeApps(probe.apps.text));
  const describe = (index: number): string => {
    const apps = occupancy.busy.find((b) => b.gpu.index === index)?.apps ?? [];
    return apps
      .map(
        (a) =>
          `pid ${a.pid} ${a.processName || '(unnamed)'}${a.usedMemoryMiB === null ? '' : ` (${a.usedMemoryMiB} MiB)`}`,
      )
      .join(', ');
  };
  const freeText = occupancy.free.length > 0 ? `free: GPU ${occupancy.free.join(', ')}` : 'none is free';
  if (requested.length > 0) {
    const known = inventory.map((g) => g.index);
    const missing = requested.filter((i) => !known.includes(i));
    if (missing.length > 0) {
      throw new AppError(
        'INVALID_INPUT',
        `${host} has no GPU ${missing.join(', ')}; it has ${known.length > 0 ? `GPU ${known.join(', ')}` : 'none'}.`,
      );
    }
    const busy = requested.filter((i) => !occupancy.free.includes(i));
    if (busy.length > 0) {
      throw new AppError(
        'GPU_BUSY',
        `${busy.map((i) => `GPU ${i} on ${host} is busy: ${describe(i)}`).join('; ')}. Pick another GPU (${freeText}) or wait for those processes to end.`,
      );
    }
    return { gpus: [...requested], sampleGpus };
  }
  const first = occupancy.free[0];
  if (first === undefined) {
    const held = occupancy.busy.map((b) => `GPU ${b.gpu.index}: ${describe(b.gpu.index)}`).join('; ');
    throw new AppError(
      'GPU_BUSY',
      inventory.length === 0
        ? `This task needs a GPU and nvidia-smi lists none on ${host}.`
        : `Every GPU on ${host} is busy (${held}); wait for one to be free or name one with gpus.`,
    );
  }
  return { gpus: [first], sampleGpus };
}

/** Whether the host's Docker runs rootless (its `docker info` says so); false when it cannot tell. */
async function isRootlessDocker(docker: Dockerode): Promise<boolean> {
  const info = (await docker.info().catch(() => null)) as { SecurityOptions?: unknown } | null;
  const options = Array.isArray(info?.SecurityOptions) ? (info.SecurityOptions as unknown[]) : [];
  return options.some((o) => typeof o === 'string' && /(^|,)name=rootless(,|$)/.test(o));
}

/** How many GPUs nvidia-smi's inventory lists (0 when it cannot be read). */
function countGpus(text: string): number {
  try {
    return parseGpuInventory(text).length;
  } catch {
    return 0;
  }
}

interface Upload {
  path: string;
  content: Buffer;
  mode: number;
}

interface PreparedTask {
  task: ResolvedTask;
  uploads: Upload[];
  copies: HostCopy[];
  renderPrompt(gpuCount: number, now: Date): string;
}

async function prepareTask(
  spec: RunSpec,
  profile: HostProfile,
  session: HostSession,
  resourcesDir: string,
  paths: HostRunPaths,
): Promise<PreparedTask> {
  if (spec.task.kind === 'rehearsal') {
    const resources = await loadRehearsalResources(resourcesDir);
    const uploads = resources.taskFiles.flatMap((f) => [
      { path: path.posix.join(paths.task, f.path), content: f.content, mode: f.mode },
      { path: path.posix.join(paths.workspace, f.path), content: f.content, mode: f.mode },
    ]);
    return {
      task: {
        kind: 'rehearsal',
        displayName: REHEARSAL_TASK.benchmarkName,
        protectedPaths: [...REHEARSAL_TASK.protectedPaths],
        evaluationEntry: REHEARSAL_TASK.evaluationEntry,
        requiredApiKeys: [],
      },
      uploads,
      copies: [],
      renderPrompt: (gpuCount, now) =>
        renderPrompt(
          resources.promptTemplate,
          promptVars({
            model: REHEARSAL_TASK.modelName,
            benchmark: REHEARSAL_TASK.benchmarkName,
            budgetSeconds: spec.budgetSeconds,
            gpuCount,
            now,
          }),
        ),
    };
  }
  if (!profile.ptbCheckout) {
    throw new AppError(
      'NOT_FOUND',
      `Host ${profile.name} has no PostTrainBench checkout configured, so it has no ${spec.task.benchmark} task. ` +
        `Clone aisa-group/PostTrainBench on the host and add it: ptw host add ${profile.name} … --ptb-checkout PATH`,
    );
  }
  const checkout = await readPtbCheckout(session, profile.ptbCheckout);
  const ptb = findPtbTask(checkout, spec.task.benchmark);
  const baseModel = spec.task.baseModel;
  const benchmark = spec.task.benchmark;
  const copies: HostCopy[] = [
    ...ptb.agentFiles.flatMap((f) => [
      { from: f.from, to: `task/${f.to}` },
      { from: f.from, to: `workspace/${f.to}` },
    ]),
    ...ptb.evaluatorOnlyFiles.map((f) => ({ from: f.from, to: `task/${f.to}` })),
  ];
  return {
    task: {
      kind: 'ptb',
      displayName: ptb.displayName,
      protectedPaths: ptb.protectedPaths,
      evaluationEntry: ptb.finalEvaluationEntry,
      requiredApiKeys: ptb.requiredApiKeys,
    },
    uploads: [],
    copies,
    renderPrompt: (gpuCount, now) =>
      renderPtbPrompt(checkout, { benchmark, baseModel, budgetSeconds: spec.budgetSeconds, gpuCount, now }),
  };
}

async function inspectImage(docker: Dockerode, image: string, host: string): Promise<string | null> {
  try {
    const info = await docker.getImage(image).inspect();
    return info.Id ?? null;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) {
      throw new AppError(
        'IMAGE_MISSING',
        `The image ${image} is not on ${host}. Pull or build it there (docker pull ${image}), or choose another with --image.`,
      );
    }
    throw new AppError(
      'DOCKER_UNAVAILABLE',
      `Inspecting the image ${image} on ${host} failed: ${(err as Error).message}`,
      {
        retryable: true,
        cause: err,
      },
    );
  }
}

function dockerMessage(err: unknown): string {
  const json = (err as { json?: { message?: string } }).json;
  return json?.message ?? (err as Error).message ?? String(err);
}

async function createAgentContainer(
  docker: Dockerode,
  plan: AgentContainerPlan,
  host: string,
  warnings: string[],
): Promise<string> {
  try {
    return (await docker.createContainer(buildAgentContainerConfig(plan))).id;
  } catch (err) {
    const message = dockerMessage(err);
    if (plan.limits.diskBytes && /storage-?opt|quota/i.test(message)) {
      warnings.push(`The disk limit is not supported by ${host}'s storage driver (${message}); the run has none.`);
      const { diskBytes: _ignored, ...limits } = plan.limits;
      return createAgentContainer(docker, { ...plan, limits }, host, warnings);
    }
    const hint = /network .*not found/i.test(message)
      ? ` ${host}'s Docker has no such network; run with the network off (network: off).`
      : '';
    throw new AppError('INTERNAL', `Creating the agent container on ${host} failed: ${message}.${hint}`, {
      cause: err,
    });
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls state.json until the supervisor says anything but `starting`. */
async function waitForSupervisor(
  session: HostSession,
  paths: HostRunPaths,
  pid: number | null,
  timeoutMs: number,
): Promise<RunState> {
  const deadline = Date.now() + timeoutMs;
  let checks = 0;
  for (;;) {
    const text = await session.readFile(paths.state).then(
      (b) => b.toString('utf8'),
      () => null,
    );
    if (text) {
      try {
        const state = runStateSchema.parse(JSON.parse(text));
        if (state.status !== 'starting') return state;
      } catch {
        // Replaced atomically, so this is a supervisor of another version: wait for a readable one.
      }
    }
    checks++;
    if (pid !== null && checks % 8 === 0) {
      const alive = await session.exec(`kill -0 ${pid} 2>/dev/null && echo alive`);
      if (!alive.stdout.includes('alive') && !text) {
        const log = await session.readFile(paths.supervisorLog).catch(() => Buffer.alloc(0));
        throw new AppError(
          'INTERNAL',
          `The supervisor exited before starting the agent. Its log:\n${log.toString('utf8').slice(-2_000).trim()}`,
        );
      }
    }
    if (Date.now() >= deadline) {
      throw new AppError(
        'TIMEOUT',
        `The supervisor did not start the agent within ${Math.round(timeoutMs / 1000)} s; see ${paths.supervisorLog} on the host.`,
        { retryable: true },
      );
    }
    await sleep(250);
  }
}

/**
 * Everything decided before the host changes: the spec, the agent's command and key, the host's probe, the task,
 * the GPUs, the image, the sandbox's user and limits, the prompt and the grader keys. `queued` plans a run that the
 * host's dispatcher starts later (src/main/experiments/): its GPUs are chosen then, so none is chosen here.
 */
export interface LaunchContext {
  now: Date;
  spec: RunSpec;
  warnings: string[];
  profile: HostProfile;
  agent: AgentDefinition;
  command: string[];
  secret: Awaited<ReturnType<typeof resolveAgentSecret>>;
  /** A rehearsal against the scripted model (`--scripted`), with its dummy key as `secret`. */
  scripted: ScriptedRun | null;
  session: HostSession;
  probe: HostProbe;
  runRoot: string;
  runId: string;
  runDir: string;
  prepared: PreparedTask;
  gpus: number[];
  sampleGpus: boolean;
  image: string;
  docker: Dockerode;
  imageId: string | null;
  rootlessDocker: boolean;
  sandbox: ReturnType<typeof sandboxUserFor>;
  limits: ReturnType<typeof sandboxLimits>;
  prompt: string;
  graderKeys: { name: string; value: string }[];
}

export async function planLaunch(
  deps: LaunchDeps,
  input: unknown,
  queued?: { gpusPerRun: number; runId?: string },
  /** A run id chosen by the caller (an experiment's resubmission on SLURM: `<first run id>r<n>`). */
  fixedRunId?: string,
): Promise<LaunchContext> {
  const now = deps.now?.() ?? new Date();
  const { spec, warnings } = validateForLaunch(input);
  const profile = await deps.profile(spec.host);
  const agent = getAgent(spec.agent.id);
  const promptPathCheck = (): string[] => {
    try {
      return buildAgentCommand(agent, {
        model: spec.agent.model,
        promptPath: PROMPT_PATH,
        ...(spec.agent.id === 'custom' ? { command: spec.agent.command } : {}),
      });
    } catch (err) {
      throw new AppError('INVALID_INPUT', (err as Error).message);
    }
  };
  const command = promptPathCheck();
  const scripted = scriptedRun(spec, agent);
  const secret = scripted ? scripted.secret : await resolveAgentSecret(agent, deps.secrets);

  const session = await deps.session(spec.host);
  const probed = await session.exec(probeScript(), { timeoutMs: 60_000 });
  if (probed.code !== 0) {
    throw new AppError('INTERNAL', `Probing ${spec.host} failed (exit ${probed.code}): ${probed.stderr.trim()}`);
  }
  const probe = parseProbe(probed.stdout);
  if (!probe.python || !pythonSupported(probe.python)) {
    throw new AppError(
      'HOST_REQUIREMENT_MISSING',
      `${spec.host} ${probe.python ? `has Python ${probe.python}` : 'has no python3 on the PATH of the SSH session'}; ` +
        `the run's supervisor needs Python ${MIN_PYTHON.join('.')} or newer (standard library only). Install python3 there.`,
    );
  }
  if (!probe.home) throw new AppError('INTERNAL', `${spec.host} did not say what HOME is`);
  const runRoot = resolveHostPath(profile.runRoot, probe.home);
  const runId = queued?.runId ?? fixedRunId ?? newRunId(now);
  const runDir = path.posix.join(runRoot, runId);
  const paths = hostRunPaths(runDir);

  const prepared = await prepareTask(spec, profile, session, deps.resourcesDir, paths);
  const hostGpuCount = probe.gpus?.code === 0 ? countGpus(probe.gpus.text) : 0;
  const { gpus, sampleGpus } = queued
    ? { gpus: [], sampleGpus: hostGpuCount > 0 }
    : (profile.scheduler ? chooseSlurmGpus : chooseGpus)({
        host: spec.host,
        requested: spec.gpus,
        needsGpu: prepared.task.kind === 'ptb',
        probe,
      });
  const image = spec.image ?? profile.requiredImages[0];
  if (!image) {
    throw new AppError(
      'INVALID_INPUT',
      `No image for the run: name one (--image) or give ${spec.host} a default (ptw host add ${spec.host} … --image NAME).`,
    );
  }
  const docker = await session.docker();
  const imageId = await inspectImage(docker, image, spec.host);
  // Never root in the sandbox (sandbox-policy.ts); memory and /dev/shm from the host's RAM unless the spec says.
  const rootlessDocker = await isRootlessDocker(docker);
  const sandbox = sandboxUserFor({ ...probe, rootlessDocker });
  const runGpuCount = queued ? (prepared.task.kind === 'ptb' ? queued.gpusPerRun : 0) : gpus.length;
  const limits = sandboxLimits({ memTotalBytes: probe.memTotalBytes, hostGpuCount, runGpuCount, spec: spec.limits });
  const prompt = prepared.renderPrompt(runGpuCount, now);
  const graderKeys = await resolveGraderKeys(prepared.task, deps.secrets);
  return {
    ...{ now, spec, warnings, profile, agent, command, secret, scripted, session, probe, runRoot, runId, runDir },
    prepared,
    ...{ gpus, sampleGpus, image, docker, imageId, rootlessDocker, sandbox, limits, prompt, graderKeys },
  };
}

/**
 * Lays the run's folder out at `folder` (the run folder, or a queued run's template, see planLaunch): the folder
 * tree and the task's copies (refused on a full disk), then the task, agent, prompt, timer and host package files.
 * The host is left as it was when this fails.
 */
export async function layOutRunFolder(ctx: LaunchContext, deps: LaunchDeps, folder: string): Promise<void> {
  const { session, spec, runRoot, prepared, probe } = ctx;
  const paths = hostRunPaths(folder);
  const minFreeBytes =
    prepared.task.kind === 'rehearsal' ? REHEARSAL_MIN_FREE_BYTES : DEFAULT_DISK_THRESHOLDS.failBelowBytes;
  const prep = await session.exec(prepareScript(runRoot, folder, prepared.copies, minFreeBytes), {
    timeoutMs: 10 * 60_000,
  });
  if (prep.code !== 0) {
    const said = `${prep.stdout}\n${prep.stderr}`.trim();
    const full = /PTW-FULL: (\S+) (\S+)/.exec(said);
    if (prep.code === 74 && full) {
      await session.exec(removeRunDirScript(folder)).catch(() => undefined);
      const free = Number(full[1]);
      throw new AppError(
        'RUN_ROOT_FULL',
        `The disk holding the run root ${runRoot} on ${spec.host} (${full[2]}) has ${Number.isFinite(free) ? formatByteSize(free * 1024) : 'too little'} free; ` +
          `${prepared.task.kind === 'rehearsal' ? 'the rehearsal' : 'a run'} needs at least ${formatByteSize(minFreeBytes)}. ` +
          `Free space there or choose another run root (ptw host add ${spec.host} … --run-root PATH).`,
      );
    }
    if (prep.code === 73) {
      throw new AppError(
        'RUN_ROOT_NOT_WRITABLE',
        `The run root ${runRoot} on ${spec.host} is not writable by ${probe.user || 'the SSH user'}: ${said.replace(/PTW-ROOT: /g, '')}. ` +
          `Fix its permissions or choose another (ptw host add ${spec.host} … --run-root PATH).`,
      );
    }
    await session.exec(removeRunDirScript(folder)).catch(() => undefined);
    throw new AppError('INTERNAL', `Preparing ${folder} on ${spec.host} failed: ${said}`);
  }
  try {
    const agentFiles = await Promise.all(ctx.agent.files.map((f) => loadAgentFile(deps.resourcesDir, f)));
    const hostPackage = await loadHostPackage(deps.resourcesDir);
    const taskUploads = prepared.uploads.map((u) => ({ ...u, path: rebase(u.path, ctx.runDir, folder) }));
    const uploads: Upload[] = [
      ...taskUploads,
      ...agentFiles.map((f, i) => ({
        path: path.posix.join(ctx.agent.files[i]!.dir === 'ptw' ? paths.ptw : paths.workspace, f.path),
        content: f.content,
        mode: f.mode,
      })),
      { path: paths.prompt, content: Buffer.from(ctx.prompt, 'utf8'), mode: 0o644 },
      { path: paths.timer, content: Buffer.from(TIMER_SCRIPT, 'utf8'), mode: 0o755 },
      { path: paths.supervisorPackage, content: hostPackage.bytes, mode: 0o644 },
      ...(ctx.scripted ? scriptedUploads(ctx.scripted, folder) : []),
    ];
    if (ctx.scripted) await session.exec(scriptedFoldersScript(ctx.scripted, folder), { timeoutMs: 30_000 });
    for (const upload of uploads) await session.writeFile(upload.path, upload.content, { mode: upload.mode });
  } catch (err) {
    await session.exec(removeRunDirScript(folder)).catch(() => undefined);
    throw err;
  }
}

/** `file` under `from` moved under `to` (task uploads were planned for the run folder). */
function rebase(file: string, from: string, to: string): string {
  return from === to ? file : path.posix.join(to, path.posix.relative(from, file));
}

/** The agent container's plan and run.json of a run on `gpus`, at the context's run folder. */
export function launchRecords(
  ctx: LaunchContext,
  deps: LaunchDeps,
  gpus: number[],
): { plan: AgentContainerPlan; secretEnv: Record<string, string>; runJson(containerId: string): RunJson } {
  const { spec, agent, prepared, limits, sandbox, runId, runDir, image } = ctx;
  const agentEnv = agentEnvironment(spec, agent, ctx.secret);
  const env = ctx.scripted ? { ...agentEnv.env, ...scriptedEnv(ctx.scripted) } : agentEnv.env;
  const secretEnv = agentEnv.secretEnv;
  const hash = specHash(spec);
  const plan: AgentContainerPlan = {
    runId,
    runDir,
    image,
    command: ctx.command,
    env,
    secretEnv,
    gpus,
    protectedFiles: prepared.task.protectedPaths,
    ...(ctx.profile.hfCache ? { hfCacheDir: resolveHostPath(ctx.profile.hfCache, ctx.probe.home) } : {}),
    network: spec.network,
    limits: {
      ...(spec.limits.cpus ? { nanoCpus: Math.round(spec.limits.cpus * 1e9) } : {}),
      ...(limits.memoryBytes ? { memoryBytes: limits.memoryBytes } : {}),
      shmBytes: limits.shmBytes,
      ...(spec.limits.pidsLimit ? { pidsLimit: spec.limits.pidsLimit } : {}),
      ...(spec.limits.diskBytes ? { diskBytes: spec.limits.diskBytes } : {}),
    },
    labels: agentContainerLabels({ runId, runDir, specHash: hash, budgetSeconds: spec.budgetSeconds }),
    user: sandbox.user,
  };
  const runJson = (containerId: string): RunJson =>
    buildRunJson({
      runId,
      createdAt: ctx.now,
      spec,
      agentContainerId: containerId,
      budgetSeconds: spec.budgetSeconds,
      gpus,
      sampleGpus: ctx.sampleGpus,
      evaluation: buildEvaluationPlan({
        task: prepared.task,
        image,
        gpus,
        runId,
        runDir,
        user: sandbox.user,
        memoryBytes: limits.memoryBytes,
        shmBytes: limits.shmBytes,
        rootlessDocker: ctx.rootlessDocker,
      }),
      integrity: integrityPlanFor({
        spec,
        profile: ctx.profile,
        home: ctx.probe.home,
        runRoot: ctx.runRoot,
        secretNames: Object.keys(secretEnv),
        ptwHome: path.dirname(deps.runsDir),
      }),
      launch: {
        host: spec.host,
        image,
        imageId: ctx.imageId,
        gpus,
        command: ctx.command,
        env,
        secretNames: Object.keys(secretEnv),
        evaluationSecretNames: ctx.graderKeys.map((k) => k.name),
        protectedPaths: prepared.task.protectedPaths,
        network: spec.network,
        task: {
          kind: prepared.task.kind,
          displayName: prepared.task.displayName,
          evaluationEntry: prepared.task.evaluationEntry,
        },
        promptSha256: createHash('sha256').update(ctx.prompt).digest('hex'),
        appVersion: deps.appVersion,
        warnings: ctx.warnings,
        sandbox: {
          user: sandbox.user,
          memoryBytes: limits.memoryBytes ?? null,
          shmBytes: limits.shmBytes,
          limitsFrom: limits.source,
        },
      },
    });
  return { plan, secretEnv, runJson };
}

/** `options`: an experiment's launch on a SLURM host names its run id and writes the experiment into run.json. */
export async function launchRun(
  deps: LaunchDeps,
  input: unknown,
  options: { runId?: string; experiment?: RunExperiment } = {},
): Promise<LaunchResult> {
  const ctx = await planLaunch(deps, input, undefined, options.runId);
  const { spec, session, runId, runDir, docker, profile, warnings } = ctx;
  const paths = hostRunPaths(runDir);
  // From here on the host changes: undo it all if the launch fails before the supervisor owns the run.
  await layOutRunFolder(ctx, deps, runDir);

  let containerId: string | null = null;
  let endpointId: string | null = null;
  let agentVersion: string | undefined;
  let mirror: RunMirror | null = null;
  try {
    const handedOver = await session.exec(handOverScript(runDir, ctx.sandbox), { timeoutMs: 10 * 60_000 });
    if (handedOver.code !== 0) {
      throw new AppError(
        'INTERNAL',
        `Handing ${runDir}/workspace on ${spec.host} to the sandbox's user ${ctx.sandbox.user} failed: ${`${handedOver.stdout}\n${handedOver.stderr}`.trim()}`,
      );
    }
    const records = launchRecords(ctx, deps, ctx.gpus);
    if (ctx.scripted) {
      if (profile.scheduler)
        throw new AppError('INVALID_INPUT', 'A scripted rehearsal runs on a Docker host, not SLURM');
      await session.exec(endpointHandOverScript(runDir, ctx.sandbox), { timeoutMs: 30_000 });
      const config = modelEndpointContainerConfig({
        ...{ runId, runDir, image: ctx.image, user: ctx.sandbox.user, network: spec.network },
        key: ctx.scripted.secret.value,
      });
      endpointId = await startModelEndpoint(docker, session, config, runDir);
      agentVersion = await probeAgentVersion(docker, endpointId, ctx.scripted, ctx.image);
      records.plan.networkContainer = endpointId;
    }
    containerId = profile.scheduler
      ? slurmContainerName(runId)
      : await createAgentContainer(docker, records.plan, spec.host, warnings);
    const runJsonValue = records.runJson(containerId);
    if (agentVersion !== undefined) runJsonValue.launch.agentVersion = agentVersion;
    if (options.experiment) runJsonValue.experiment = options.experiment;
    const runJsonText = `${JSON.stringify(runJsonValue, null, 2)}\n`;
    await session.writeFile(paths.runJson, runJsonText, { mode: 0o644 });
    mirror = await RunMirror.create(deps.runsDir, { id: runId, host: spec.host, hostRunDir: runDir, runJsonText });

    if (profile.scheduler) {
      // A SLURM host: the run is an sbatch job that creates the container and runs the supervisor on its node.
      const job = await submitSlurmRun({
        session,
        host: spec.host,
        scheduler: profile.scheduler,
        agent: records.plan,
        dockerSocket: profile.dockerSocket,
        budgetSeconds: spec.budgetSeconds,
        secretsLine: supervisorSecretsLine(
          Object.entries(records.secretEnv).map(([name, value]) => ({ name, value })),
          ctx.graderKeys,
        ),
      });
      await writeSchedulerRecord(mirror.dir, job.scheduler);
      return { id: runId, mirror, hostRunDir: runDir, state: null, warnings };
    }
    const started = await session.exec(
      startSupervisorScript({ runDir, dockerSocket: profile.dockerSocket, containerId, resume: false }),
      // The key goes to the supervisor on stdin only, so the host's own recording is redacted too.
      {
        timeoutMs: 30_000,
        stdin: supervisorSecretsLine(
          Object.entries(records.secretEnv).map(([name, value]) => ({ name, value })),
          ctx.graderKeys,
        ),
      },
    );
    if (started.code !== 0) {
      throw new AppError(
        started.code === 69 ? 'HOST_REQUIREMENT_MISSING' : 'INTERNAL',
        `Starting the supervisor on ${spec.host} failed: ${`${started.stdout}\n${started.stderr}`.trim()}`,
      );
    }
    const pid = Number(/PID (\d+)/.exec(started.stdout)?.[1] ?? NaN);
    const state = await waitForSupervisor(
      session,
      paths,
      Number.isFinite(pid) ? pid : null,
      deps.startTimeoutMs ?? 60_000,
    );
    return { id: runId, mirror, hostRunDir: runDir, state, warnings };
  } catch (err) {
    if (err instanceof AppError && err.code === 'TIMEOUT') throw err; // the supervisor may still come up: keep all
    if (endpointId)
      await docker
        .getContainer(endpointId)
        .remove({ force: true })
        .catch(() => undefined);
    if (containerId && !profile.scheduler)
      await docker
        .getContainer(containerId)
        .remove({ force: true })
        .catch(() => undefined);
    await session.exec(removeRunDirScript(runDir)).catch(() => undefined);
    if (mirror) await rm(mirror.dir, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}
