import { createHash } from 'node:crypto';
import path from 'node:path';
import type Dockerode from 'dockerode';
import * as tar from 'tar-stream';
import type { EventPayload } from '../../shared/contract';
import type { SetupReport, SetupStep, SetupStepResult } from '../../shared/contract-host-setup';
import { SETUP_STEPS } from '../../shared/contract-host-setup';
import { AppError } from '../../shared/errors';
import type { HostProfile, PreflightReport } from '../../shared/hosts';
import { DefTranslationError, translateDef } from '../../shared/hosts/apptainer-def';
import { shellQuote } from '../../shared/shell-quote';
import { formatByteSize } from '../../shared/runs/duration';
import { BASE_MODELS } from '../../shared/runs/task-catalog';
import { locateResourcesDir } from '../catalog/rehearsal-resources';
import { HOST_PACKAGE_FILE, loadHostPackage } from '../host-package/host-package';
import { readPtbCheckout } from '../catalog/ptb-checkout';
import { resolveHostPath } from '../runs/host-scripts';
import { sandboxUserFor } from '../runs/sandbox-policy';
import type { HostSession } from './host-exec-types';

/**
 * `ptw host setup` / `hosts.setup` (docs/host-setup.md): from a fresh GPU host to one ready for PostTrainBench runs.
 * Each step runs on the host (it has the internet; the laptop may not), says when it is already done, and leaves
 * nothing half-written as if it were done: the checkout is validated before the profile names it, the image is tagged
 * only by a build that succeeded, the profile changes only after its step succeeded.
 */

export interface HostSetupDeps {
  session(name: string): Promise<HostSession>;
  profile(name: string): Promise<HostProfile>;
  saveProfile(profile: HostProfile): Promise<void>;
  emit(event: EventPayload<'hosts.setupProgress'>): void;
  /** The host's preflight (the ready step starts with it). */
  preflight(name: string): Promise<PreflightReport>;
  /** The app's resources/ (the host helpers); found from the bundle by default. */
  resourcesDir?: string | undefined;
}

export interface HostSetupInput {
  name: string;
  steps?: SetupStep[] | undefined;
  ptbCheckout?: string | undefined;
  ptbRepo?: string | undefined;
  ptbRev?: string | undefined;
  def?: string | undefined;
  hfEndpoint?: string | undefined;
}

/** Where a clone goes when the profile names no checkout. */
export const DEFAULT_CHECKOUT = '~/PostTrainBench';
/** The image tag a definition builds: its name and the hash of everything the build reads. */
export const IMAGE_REPO = 'ptw-ptb';
const LOG_LINES = 200;

class StepFailed extends Error {
  constructor(
    message: string,
    readonly log: string[] = [],
  ) {
    super(message);
  }
}

/** The checkout step's script: clone or update to `rev`, then say where HEAD is and how many files differ. */
export function checkoutScript(input: { dir: string; repo: string | null; rev: string | null }): string {
  const q = shellQuote;
  const lines = ['set -e', 'command -v git >/dev/null 2>&1 || { echo "PTW-NOGIT"; exit 69; }', `dir=${q(input.dir)}`];
  if (input.repo) {
    lines.push(
      'if [ -d "$dir/.git" ]; then',
      '  echo "BEFORE $(git -C "$dir" rev-parse HEAD)"',
      input.rev
        ? `  git -C "$dir" fetch --quiet origin ${q(input.rev)} 2>&1 || git -C "$dir" fetch --quiet origin 2>&1`
        : '  git -C "$dir" fetch --quiet origin 2>&1',
      input.rev
        ? `  git -C "$dir" checkout --quiet ${q(input.rev)} 2>&1 || git -C "$dir" checkout --quiet FETCH_HEAD 2>&1`
        : '  git -C "$dir" merge --quiet --ff-only "@{upstream}" 2>&1',
      'elif [ -e "$dir" ]; then echo "PTW-NOTGIT"; exit 65;',
      'else',
      '  echo "BEFORE none"',
      `  git clone --quiet ${q(input.repo)} "$dir" 2>&1`,
      input.rev ? `  git -C "$dir" checkout --quiet ${q(input.rev)} 2>&1` : '  :',
      'fi',
    );
  }
  lines.push(
    '[ -d "$dir" ] || { echo "PTW-MISSING"; exit 66; }',
    'if [ -d "$dir/.git" ] || git -C "$dir" rev-parse --git-dir >/dev/null 2>&1; then',
    '  echo "HEAD $(git -C "$dir" rev-parse HEAD)"',
    '  echo "DIRTY $(git -C "$dir" status --porcelain | wc -l)"',
    'fi',
  );
  return lines.join('\n');
}

// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[0-9;]*m/g;

/** Parses a build's JSON progress message into a log line and "step n of m". */
export function buildProgress(message: { stream?: string; status?: string; error?: string }): {
  line: string | null;
  step: { done: number; total: number } | null;
} {
  // The classic builder colours a RUN's stderr (ESC[91m … ESC[0m): the log keeps the words, not the colours.
  const text = (message.stream ?? message.status ?? message.error ?? '').replace(SGR, '').replace(/\n$/, '');
  const step = /^Step (\d+)\/(\d+) :/.exec(text);
  return {
    line: text === '' ? null : text,
    step: step ? { done: Number(step[1]), total: Number(step[2]) } : null,
  };
}

/**
 * Whole lines from a build's output: the builder sends a RUN's output in pieces cut anywhere (`+ ` in one message,
 * `echo post ran\n` in the next), so a line is only a line once its newline came.
 */
export class BuildLines {
  #pending = '';

  /** The complete lines `text` finishes (colours removed). */
  push(text: string): string[] {
    this.#pending += text.replace(SGR, '');
    const lines = this.#pending.split('\n');
    this.#pending = lines.pop() ?? '';
    return lines.map((l) => l.replace(/\r$/, ''));
  }

  /** What is left without a newline at the end. */
  flush(): string[] {
    const rest = this.#pending;
    this.#pending = '';
    return rest === '' ? [] : [rest];
  }
}

/** The %post command that failed: the last `+ cmd` line `sh -x` printed before the build's error. */
export function failedPostCommand(log: readonly string[]): string | null {
  for (let i = log.length - 1; i >= 0; i--) {
    const line = log[i]!;
    if (line.startsWith('+ ')) return line.slice(2);
  }
  return null;
}

/** What each step works with: the host, its profile as the earlier steps left it, the request, $HOME there, its log. */
interface StepContext {
  session: HostSession;
  profile: HostProfile;
  input: HostSetupInput;
  home: string;
  log: string[];
}

export class HostSetupService {
  constructor(private readonly deps: HostSetupDeps) {}

  async setup(input: HostSetupInput): Promise<SetupReport> {
    const steps = input.steps ?? [...SETUP_STEPS];
    let profile = await this.deps.profile(input.name);
    const session = await this.deps.session(input.name);
    const home = (await session.exec('printf %s "$HOME"')).stdout.trim() || '/root';
    const results: SetupStepResult[] = [];
    let failed = false;
    for (const step of SETUP_STEPS) {
      if (!steps.includes(step)) continue;
      if (failed) {
        results.push({ step, status: 'not-run', summary: 'not run: an earlier step failed', log: [] });
        this.progress(input.name, step, 'not-run', null);
        continue;
      }
      this.progress(input.name, step, 'running', null);
      const log: string[] = [];
      try {
        // One method per step, named as the step is.
        const outcome = await this[step]({ session, profile, input, home, log });
        if (outcome.profile) {
          await this.deps.saveProfile(outcome.profile);
          profile = outcome.profile;
        }
        results.push({ step, status: outcome.status, summary: outcome.summary, log: log.slice(-LOG_LINES) });
        this.progress(input.name, step, outcome.status, outcome.summary);
      } catch (err) {
        failed = true;
        const message = err instanceof Error ? err.message : String(err);
        const extra = err instanceof StepFailed ? err.log : [];
        results.push({ step, status: 'failed', summary: message, log: [...log, ...extra].slice(-LOG_LINES) });
        this.progress(input.name, step, 'failed', message);
      }
    }
    return {
      name: input.name,
      ok: !failed,
      steps: results,
      ptbCheckout: profile.ptbCheckout ?? null,
      image: profile.requiredImages[0] ?? null,
    };
  }

  private progress(
    name: string,
    step: SetupStep,
    status: EventPayload<'hosts.setupProgress'>['status'],
    line: string | null,
    counts: { done: number; total: number } | null = null,
  ): void {
    this.deps.emit({ name, step, status, done: counts?.done ?? null, total: counts?.total ?? null, line });
  }

  // --- 1. the checkout ------------------------------------------------------------------------------------------

  private async checkout({ session, profile, input, home, log }: StepContext): Promise<Outcome> {
    const given = input.ptbCheckout ?? profile.ptbCheckout ?? DEFAULT_CHECKOUT;
    const dir = resolveHostPath(given, home);
    const result = await session.exec(checkoutScript({ dir, repo: input.ptbRepo ?? null, rev: input.ptbRev ?? null }), {
      timeoutMs: 30 * 60_000,
    });
    const out = `${result.stdout}${result.stderr}`;
    log.push(...out.split('\n').filter((l) => l.trim() !== ''));
    if (out.includes('PTW-NOGIT')) throw new StepFailed(`git is not installed on ${profile.name}; install it there`);
    if (out.includes('PTW-NOTGIT')) {
      throw new StepFailed(`${dir} exists on ${profile.name} and is not a git clone; choose another --ptb-checkout`);
    }
    if (out.includes('PTW-MISSING')) {
      throw new StepFailed(
        `${dir} does not exist on ${profile.name}: give --ptb-repo URL to clone PostTrainBench there, or --ptb-checkout PATH`,
      );
    }
    if (result.code !== 0) throw new StepFailed(`git failed on ${profile.name} (exit ${result.code}); see the log`);
    // Validated before the profile names it: a folder that is not PostTrainBench is refused with what is missing.
    let tasks: number;
    try {
      tasks = (await readPtbCheckout(session, dir)).tasks.length;
    } catch (err) {
      throw new StepFailed(`${dir} is not a PostTrainBench checkout: ${(err as Error).message}`);
    }
    const head = /^HEAD (\S+)/m.exec(out)?.[1] ?? null;
    const before = /^BEFORE (\S+)/m.exec(out)?.[1] ?? null;
    const dirty = Number(/^DIRTY (\d+)/m.exec(out)?.[1] ?? 0);
    const revision = head ? `at ${head.slice(0, 12)}` : 'not a git clone';
    const changes = dirty > 0 ? `, ${dirty} locally changed file(s)` : head ? ', no local changes' : '';
    const unchanged = profile.ptbCheckout === given && (input.ptbRepo === undefined || before === head);
    const summary = `${dir}: ${tasks} task(s), ${revision}${changes}`;
    if (unchanged) return { status: 'skipped', summary: `already set up: ${summary}` };
    return { status: 'done', summary, profile: { ...profile, ptbCheckout: given } };
  }

  // --- 2. the run image -----------------------------------------------------------------------------------------

  private async image({ session, profile, input, home, log }: StepContext): Promise<Outcome> {
    if (!profile.ptbCheckout) {
      throw new StepFailed(`${profile.name} has no PostTrainBench checkout yet: run the checkout step first`);
    }
    const checkout = resolveHostPath(profile.ptbCheckout, home);
    const defName = input.def ?? 'standard';
    const defPath = defName.includes('/')
      ? resolveHostPath(defName, home)
      : `${checkout}/containers/${defName.replace(/\.def$/, '')}.def`;
    const relName = defName.includes('/') ? defPath : `containers/${path.posix.basename(defPath)}`;
    const text = await session.readFile(defPath, { maxBytes: 1024 * 1024 }).catch((err: unknown) => {
      throw new StepFailed(`cannot read the definition ${defPath} on ${profile.name}: ${(err as Error).message}`);
    });
    let translation;
    try {
      translation = translateDef(text.toString('utf8'), relName);
    } catch (err) {
      if (err instanceof DefTranslationError) throw new StepFailed(`cannot translate it: ${err.message}`);
      throw err;
    }
    const sources = await Promise.all(
      translation.files.map(async (f) => ({
        context: f.context,
        data: await session
          .readFile(`${checkout}/${f.source}`, { maxBytes: 512 * 1024 * 1024 })
          .catch((err: unknown) => {
            throw new StepFailed(
              `%files names ${f.source}, which cannot be read in ${checkout}: ${(err as Error).message}`,
            );
          }),
      })),
    );
    // The tag is the hash of everything the build reads: the same inputs reuse the image, a changed one rebuilds.
    const hash = createHash('sha256').update(translation.dockerfile);
    for (const [name, body] of Object.entries(translation.generated).sort()) hash.update(name).update(body);
    for (const s of sources) hash.update(s.context).update(s.data);
    const base = path.posix
      .basename(defPath)
      .replace(/\.def$/, '')
      .toLowerCase()
      .replace(/[^a-z0-9_.-]/g, '-');
    const tag = `${IMAGE_REPO}/${base}:${hash.digest('hex').slice(0, 12)}`;
    const docker = await session.docker();
    const withImage = (): HostProfile => ({
      ...profile,
      requiredImages: [tag, ...profile.requiredImages.filter((i) => i !== tag && !i.startsWith(`${IMAGE_REPO}/`))],
    });
    if (await imageExists(docker, tag)) {
      const current = profile.requiredImages[0] === tag;
      return {
        status: current ? 'skipped' : 'done',
        summary: `${tag} is already built from ${relName}${current ? '' : '; the host now uses it'}`,
        ...(current ? {} : { profile: withImage() }),
      };
    }
    const context = tar.pack();
    context.entry({ name: 'Dockerfile', mode: 0o644 }, translation.dockerfile);
    for (const [name, body] of Object.entries(translation.generated)) context.entry({ name, mode: 0o755 }, body);
    for (const s of sources) context.entry({ name: s.context, mode: 0o644 }, s.data);
    context.finalize();
    // %post fetches from the internet: Docker's default bridge where the host has one, else the host's network.
    const networks = await docker.listNetworks().catch(() => []);
    const networkmode = networks.some((n) => n.Name === 'bridge') ? 'default' : 'host';
    log.push(
      `building ${tag} from ${relName} (${translation.steps} steps, FROM ${translation.from}, network ${networkmode})`,
    );
    const stream = await docker
      .buildImage(context as unknown as NodeJS.ReadableStream, { t: tag, rm: true, forcerm: true, networkmode })
      .catch((err: unknown) => {
        throw new StepFailed(`Docker on ${profile.name} refused the build: ${(err as Error).message}`);
      });
    const lines = new BuildLines();
    const error = await new Promise<string | null>((resolve) => {
      let failure: string | null = null;
      docker.modem.followProgress(
        stream,
        (err) => resolve(failure ?? (err ? String((err as Error).message ?? err) : null)),
        (message: { stream?: string; status?: string; error?: string; errorDetail?: { message?: string } }) => {
          if (message.error) failure = message.errorDetail?.message ?? message.error;
          const whole = lines.push(message.stream ?? message.status ?? '');
          log.push(...whole);
          // "Step n/m" is read from the whole line: the builder may send its newline in a message of its own.
          for (const line of whole)
            this.progress(profile.name, 'image', 'running', line, buildProgress({ stream: line }).step);
          if (message.error) log.push(message.error);
        },
      );
    });
    log.push(...lines.flush());
    if (error) {
      const command = failedPostCommand(log);
      throw new StepFailed(
        command ? `the build failed in %post at: ${command} (${error})` : `the build failed: ${error}`,
      );
    }
    if (!(await imageExists(docker, tag))) throw new StepFailed(`the build ended but ${tag} is not on ${profile.name}`);
    return {
      status: 'done',
      summary: `built ${tag} from ${relName}; the host's runs use it now`,
      profile: withImage(),
    };
  }

  // --- 3. the caches --------------------------------------------------------------------------------------------

  /**
   * The checkout's list of what PostTrainBench pre-fetches, plus every base model and its instruct counterpart (the
   * integrity checks compare against them), downloaded on the host by the host package's `hf-fetch` subcommand
   * (resources/host/ptw_host/hf_fetch.py): the plan and disk check first, then file by file with bytes done, resumed
   * after a cut connection.
   */
  private async caches({ session, profile, input, home, log }: StepContext): Promise<Outcome> {
    if (!profile.ptbCheckout) throw new StepFailed(`${profile.name} has no PostTrainBench checkout yet`);
    if (!session.stream) throw new StepFailed(`the connection to ${profile.name} cannot stream a command's output`);
    const checkout = resolveHostPath(profile.ptbCheckout, home);
    const cacheGiven = profile.hfCache ?? DEFAULT_HF_CACHE;
    const cache = resolveHostPath(cacheGiven, home);
    const listed = await session
      .readFile(`${checkout}/containers/download_hf_cache/resources.json`, { maxBytes: 1024 * 1024 })
      .catch(() => null);
    if (!listed)
      throw new StepFailed(`${checkout} has no containers/download_hf_cache/resources.json to say what to fetch`);
    let plan: { models?: unknown; datasets?: unknown };
    try {
      plan = JSON.parse(listed.toString('utf8')) as typeof plan;
    } catch {
      throw new StepFailed('containers/download_hf_cache/resources.json is not JSON');
    }
    const models = new Set(
      Array.isArray(plan.models) ? plan.models.filter((m): m is string => typeof m === 'string') : [],
    );
    for (const base of BASE_MODELS) models.add(base.hfId).add(base.instructHfId);
    const resources = { models: [...models], datasets: Array.isArray(plan.datasets) ? plan.datasets : [] };
    const dir = `${home}/.cache/posttrain-workbench`;
    await session.exec(`mkdir -p -- ${shellQuote(dir)} ${shellQuote(cache)}`);
    const pkg = await loadHostPackage(this.deps.resourcesDir ?? locateResourcesDir());
    await session.writeFile(`${dir}/${HOST_PACKAGE_FILE}`, pkg.bytes, { mode: 0o644 });
    await session.writeFile(`${dir}/resources.json`, `${JSON.stringify(resources, null, 2)}\n`, { mode: 0o644 });
    const command = [
      'python3',
      shellQuote(`${dir}/${HOST_PACKAGE_FILE}`),
      'hf-fetch',
      '--resources',
      shellQuote(`${dir}/resources.json`),
      '--cache',
      shellQuote(cache),
      ...(input.hfEndpoint ? ['--endpoint', shellQuote(input.hfEndpoint)] : []),
    ].join(' ');
    const stream = await session.stream(command);
    const files = new Map<string, number>();
    let missing = 0;
    let end: { ok?: boolean; failed?: string[]; error?: string } | null = null;
    const repoFailures: string[] = [];
    let pending = '';
    const onLine = (line: string): void => {
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(line) as Record<string, unknown>;
      } catch {
        if (line.trim()) log.push(line);
        return;
      }
      if (event.event === 'plan') {
        missing = Number(event.missingBytes) || 0;
        const text = `${String(event.repos)} repositories, ${String(event.files)} files; ${formatByteSize(missing)} to fetch, ${formatByteSize(Number(event.freeBytes) || 0)} free in ${cache}`;
        log.push(text);
        this.progress(profile.name, 'caches', 'running', text, { done: 0, total: missing });
      } else if (event.event === 'file') {
        files.set(`${String(event.repo)}/${String(event.file)}`, Number(event.done) || 0);
        const done = [...files.values()].reduce((a, b) => a + b, 0);
        const what = `${String(event.repo)}: ${String(event.file)} ${formatByteSize(Number(event.done) || 0)} of ${formatByteSize(Number(event.total) || 0)}${event.retry ? ` (connection lost, resuming: ${String(event.error)})` : ''}`;
        if (event.retry || Number(event.done) === Number(event.total)) log.push(what);
        this.progress(profile.name, 'caches', 'running', what, { done: Math.min(done, missing), total: missing });
      } else if (event.event === 'repo') {
        const what = `${String(event.repo)}: ${String(event.status)}${event.error ? ` (${String(event.error)})` : ''}`;
        log.push(what);
        if (event.status === 'failed') repoFailures.push(what);
        this.progress(profile.name, 'caches', 'running', what);
      } else if (event.event === 'end') {
        end = event as typeof end;
      }
    };
    stream.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
    let stderr = '';
    stream.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = await stream.exited;
    if (pending) onLine(pending);
    const finished = end as { ok?: boolean; failed?: string[]; error?: string } | null;
    if (!finished) {
      throw new StepFailed(
        `the download helper on ${profile.name} stopped (exit ${exited.code ?? '?'}): ${stderr.trim().split('\n').pop() ?? 'no output'}`,
      );
    }
    if (finished.error) throw new StepFailed(`not fetched: ${finished.error}`);
    if (!finished.ok) {
      throw new StepFailed(
        `${repoFailures.length} repositor${repoFailures.length === 1 ? 'y' : 'ies'} could not be fetched: ${repoFailures.join('; ')}; run the step again to resume`,
      );
    }
    const summary = `${resources.models.length} model(s) and ${resources.datasets.length} data set(s) are in ${cache}${missing === 0 ? ' (all there already)' : `, ${formatByteSize(missing)} fetched`}`;
    const profileChange = profile.hfCache ? {} : { profile: { ...profile, hfCache: cacheGiven } };
    return { status: missing === 0 ? 'skipped' : 'done', summary, ...profileChange };
  }

  // --- 4. ready -------------------------------------------------------------------------------------------------

  private async ready({ session, profile, home, log }: StepContext): Promise<Outcome> {
    const image = profile.requiredImages[0];
    if (!image) throw new StepFailed(`${profile.name} has no run image yet: run the image step first`);
    // Preflight first (SSH, Docker, NVIDIA runtime, GPUs, disk, images): its failures are the host's, not the image's.
    const preflight = await this.deps.preflight(profile.name);
    const failing = preflight.checks.filter((c) => c.status === 'fail');
    for (const c of preflight.checks) log.push(`preflight ${c.status}: ${c.title}: ${c.summary}`);
    const docker = await session.docker();
    if (!(await imageExists(docker, image))) throw new StepFailed(`${image} is not on ${profile.name}`);
    const hasGpu = (await session.exec('command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L')).code === 0;
    const check = [
      'import json, importlib',
      'out = {}',
      'for name in ("torch", "vllm", "transformers"):',
      '    try:',
      '        m = importlib.import_module(name); out[name] = getattr(m, "__version__", "?")',
      '    except Exception as err:',
      '        out[name] = "missing: %s" % err',
      'try:',
      '    import torch; out["cuda"] = bool(torch.cuda.is_available()); out["gpus"] = torch.cuda.device_count()',
      'except Exception:',
      '    out["cuda"] = False',
      'out["models"] = {}',
      'for model in MODELS:',
      '    try:',
      '        from transformers import AutoConfig, AutoTokenizer',
      '        AutoConfig.from_pretrained(model); AutoTokenizer.from_pretrained(model); out["models"][model] = "ok"',
      '    except Exception as err:',
      '        out["models"][model] = "%s: %s" % (type(err).__name__, str(err).splitlines()[0][:200] if str(err) else "")',
      'print("PTW-READY " + json.dumps(out))',
    ]
      .join('\n')
      .replace('MODELS', JSON.stringify(BASE_MODELS.map((m) => m.hfId)));
    // The base models from the host's HF cache, offline, as a run's evaluation would load them.
    const cache = profile.hfCache ? resolveHostPath(profile.hfCache, home) : null;
    const outcome = await runInImage(docker, image, {
      cmd: ['python3', '-c', check],
      env: ['HOME=/tmp', 'HF_HUB_OFFLINE=1', ...(cache ? [`HF_HOME=${cache}`] : [])],
      binds: cache ? [{ source: cache, target: cache, readOnly: true }] : [],
      network: false,
      gpus: hasGpu,
      user: await sandboxUserOf(session),
      onLine: (line) => log.push(line),
    });
    const line = log.find((l) => l.startsWith('PTW-READY '));
    if (!line)
      throw new StepFailed(`python3 in ${image} could not run the check (exit ${outcome.code}): ${lastLine(log)}`);
    const facts = JSON.parse(line.slice('PTW-READY '.length)) as Record<string, unknown>;
    const missing = ['torch', 'vllm', 'transformers'].filter((m) => String(facts[m]).startsWith('missing'));
    const models = (facts.models ?? {}) as Record<string, string>;
    const unloadable = missing.includes('transformers')
      ? []
      : Object.entries(models).filter(([, status]) => status !== 'ok');
    const problems = [
      ...failing.map((c) => `preflight: ${c.title}: ${c.summary}`),
      ...missing.map((m) => `${m} is not importable in ${image} (${String(facts[m])})`),
      ...unloadable.map(
        ([model, why]) => `${model} does not load from ${cache ?? 'the HF cache'} (${why}); run the caches step`,
      ),
      ...(hasGpu
        ? facts.cuda
          ? []
          : [`torch in ${image} sees no GPU`]
        : [`${profile.name} has no NVIDIA GPU (no nvidia-smi)`]),
    ];
    if (problems.length > 0) throw new StepFailed(`not ready for benchmark runs: ${problems.join('; ')}`);
    return {
      status: 'done',
      summary: `ready: preflight passes, ${image} imports torch ${String(facts.torch)} and vllm ${String(facts.vllm)}, sees ${String(facts.gpus)} GPU(s), and loads the ${Object.keys(models).length} base models' configs and tokenizers`,
    };
  }
}

interface Outcome {
  status: 'done' | 'skipped';
  summary: string;
  profile?: HostProfile;
}

/** The Hugging Face cache a host gets when its profile names none (huggingface_hub's own default). */
export const DEFAULT_HF_CACHE = '~/.cache/huggingface';

/** The sandbox's user on this host (sandbox-policy.ts): what runs there run as. */
async function sandboxUserOf(session: HostSession): Promise<string> {
  const ids = (await session.exec('id -u; id -g')).stdout.trim().split('\n').map(Number);
  const known = (n: number | undefined): number | null => (n !== undefined && Number.isInteger(n) ? n : null);
  return sandboxUserFor({ uid: known(ids[0]), gid: known(ids[1]) }).user;
}

function lastLine(log: readonly string[]): string {
  return [...log].reverse().find((l) => l.trim() !== '') ?? 'no output';
}

async function imageExists(docker: Dockerode, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw new AppError('DOCKER_UNAVAILABLE', `Asking Docker about ${tag} failed: ${(err as Error).message}`, {
      retryable: true,
    });
  }
}

/** Runs a command in `image` (unprivileged, no capability, removed after), its output line by line. */
async function runInImage(
  docker: Dockerode,
  image: string,
  options: {
    cmd: string[];
    env: string[];
    binds: { source: string; target: string; readOnly: boolean }[];
    network: boolean;
    gpus?: boolean;
    user: string;
    onLine(line: string): void;
  },
): Promise<{ code: number | null }> {
  const container = await docker.createContainer({
    Image: image,
    Cmd: options.cmd,
    Env: options.env,
    Tty: false,
    User: options.user,
    HostConfig: {
      Mounts: options.binds.map((b) => ({ Type: 'bind', Source: b.source, Target: b.target, ReadOnly: b.readOnly })),
      NetworkMode: options.network ? 'bridge' : 'none',
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: 4096,
      ...(options.gpus ? { DeviceRequests: [{ Driver: 'nvidia', Count: -1, Capabilities: [['gpu']] }] } : {}),
    },
  });
  try {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    let pending = '';
    const feed = (chunk: Buffer): void => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) options.onLine(line.replace(/\r$/, ''));
    };
    const { PassThrough } = await import('node:stream');
    const out = new PassThrough();
    out.on('data', feed);
    docker.modem.demuxStream(stream, out, out);
    await container.start();
    const waited = (await container.wait()) as { StatusCode?: number };
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (pending) options.onLine(pending);
    return { code: waited.StatusCode ?? null };
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}
