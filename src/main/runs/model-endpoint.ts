import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { AppError } from '../../shared/errors';
import type { AgentDefinition } from '../../shared/runs/agent-catalog';
import { MODEL_SCRIPT_FORMAT, type ModelScript } from '../../shared/runs/model-script';
import { defaultRehearsalScript } from '../../shared/runs/rehearsal-scripts';
import type { RunSpec } from '../../shared/runs/run-spec';
import { MODEL_ENDPOINT_PORT, SCRIPTED_SETUP, isScriptedAgent } from '../../shared/runs/scripted-agents';
import { shellQuote } from '../../shared/shell-quote';
import type { HostSession } from '../hosts/host-exec-types';
import { HOST_PACKAGE_FILE } from '../host-package/host-package';

/**
 * The scripted model of a `--scripted` run (docs/model-script.md): a second container, `ptw.role=model-endpoint`,
 * that runs `ptw-host.pyz model-endpoint` and owns the network namespace the agent's container joins
 * (`NetworkMode: container:<endpoint>`). The endpoint's own network is the run's (`none` when the network is off), so
 * with the network off the agent reaches the endpoint on 127.0.0.1 and nothing else; it needs no port on the host,
 * no Docker network and no relay. The launcher starts it before the supervisor starts the agent; the supervisor
 * removes it with the agent's container and reports its problems (resources/host/ptw_host/model_endpoint/sidecar.py).
 */

/** In the run folder: `script.json` (read-only to the endpoint) and `out/` (its problems and request log). */
export const ENDPOINT_DIR = 'endpoint';
const IN_CONTAINER = '/ptw-endpoint';
/** The variable the endpoint container reads the dummy key from (`--key-env`). */
const KEY_ENV = 'PTW_SCRIPTED_KEY';

export interface ScriptedRun {
  agent: AgentDefinition;
  script: ModelScript;
  /** The dummy key: handled as the agent's own key (secret env, redacted, on the supervisor's stdin only). */
  secret: { env: string; name: string; value: string };
}

/** The scripted part of a run spec, or null for a run against the real provider. */
export function scriptedRun(spec: RunSpec, agent: AgentDefinition): ScriptedRun | null {
  const { agent: runAgent } = spec;
  if (!('scripted' in runAgent) || !runAgent.scripted || !isScriptedAgent(runAgent.id)) return null;
  const credential = agent.credentials.find((c) => c.kind === 'api-key');
  if (!credential)
    throw new AppError('INVALID_INPUT', `${agent.label} has no API-key setting to give the scripted model`);
  const script = runAgent.scripted.script ?? defaultRehearsalScript(runAgent.id);
  if (script.format !== MODEL_SCRIPT_FORMAT) throw new AppError('INVALID_INPUT', 'the model script has no format');
  // A fresh key per run, in the shape of none of the providers' so the redactor's patterns never mistake it.
  const value = `ptw-scripted-${randomBytes(18).toString('hex')}`;
  return { agent, script, secret: { env: credential.env, name: `${credential.env} (scripted)`, value } };
}

/** The base-URL settings the agent's environment gets (after the catalog's own). */
export function scriptedEnv(run: ScriptedRun): Record<string, string> {
  return isScriptedAgent(run.agent.id) ? { ...SCRIPTED_SETUP[run.agent.id].env } : {};
}

/** The files a scripted run adds to the run folder: the script, and each CLI's provider settings. */
export function scriptedUploads(run: ScriptedRun, runDir: string): { path: string; content: Buffer; mode: number }[] {
  const setup = isScriptedAgent(run.agent.id) ? SCRIPTED_SETUP[run.agent.id] : { files: [] };
  return [
    {
      path: path.posix.join(runDir, ENDPOINT_DIR, 'script.json'),
      content: Buffer.from(`${JSON.stringify(run.script, null, 2)}\n`, 'utf8'),
      mode: 0o644,
    },
    ...setup.files.map((f) => ({
      path: path.posix.join(runDir, f.dir, f.path),
      content: Buffer.from(f.content, 'utf8'),
      mode: 0o644,
    })),
  ];
}

/** The folders the uploads go into, made before them (SFTP writes no parents). */
export function scriptedFoldersScript(run: ScriptedRun, runDir: string): string {
  const dirs = new Set([path.posix.join(runDir, ENDPOINT_DIR, 'out')]);
  for (const upload of scriptedUploads(run, runDir)) dirs.add(path.posix.dirname(upload.path));
  return `mkdir -p -- ${[...dirs].map(shellQuote).join(' ')}`;
}

/** The endpoint writes `out/` as the sandbox's user; made theirs after the hand-over of workspace and home. */
export function endpointHandOverScript(runDir: string, sandbox: { uid: number; gid: number; chown: boolean }): string {
  const out = shellQuote(path.posix.join(runDir, ENDPOINT_DIR, 'out'));
  return [
    'set -e',
    ...(sandbox.chown ? [`chown -R -h -- ${sandbox.uid}:${sandbox.gid} ${out}`] : []),
    `chmod 0700 ${out}`,
  ].join('\n');
}

export function modelEndpointContainerConfig(input: {
  runId: string;
  runDir: string;
  image: string;
  user: string;
  network: boolean;
  key: string;
}): Dockerode.ContainerCreateOptions {
  const bind = (source: string, target: string, readOnly: boolean): Dockerode.MountSettings => ({
    Type: 'bind',
    Source: source,
    Target: target,
    ReadOnly: readOnly,
  });
  return {
    Image: input.image,
    Cmd: [
      'python3',
      `${IN_CONTAINER}/${HOST_PACKAGE_FILE}`,
      'model-endpoint',
      '--script',
      `${IN_CONTAINER}/script.json`,
      '--listen',
      `127.0.0.1:${MODEL_ENDPOINT_PORT}`,
      '--ready-file',
      `${IN_CONTAINER}/out/ready`,
      '--problems',
      `${IN_CONTAINER}/out/problems.jsonl`,
      '--log',
      `${IN_CONTAINER}/out/requests.jsonl`,
      '--key-env',
      KEY_ENV,
    ],
    Env: [`${KEY_ENV}=${input.key}`],
    User: input.user,
    WorkingDir: IN_CONTAINER,
    Labels: { 'ptw.run': input.runId, 'ptw.role': 'model-endpoint', 'ptw.run-dir': input.runDir },
    HostConfig: {
      Mounts: [
        bind(
          path.posix.join(input.runDir, '.supervisor', HOST_PACKAGE_FILE),
          `${IN_CONTAINER}/${HOST_PACKAGE_FILE}`,
          true,
        ),
        bind(path.posix.join(input.runDir, ENDPOINT_DIR, 'script.json'), `${IN_CONTAINER}/script.json`, true),
        bind(path.posix.join(input.runDir, ENDPOINT_DIR, 'out'), `${IN_CONTAINER}/out`, false),
      ],
      NetworkMode: input.network ? 'bridge' : 'none',
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      Init: true,
      PidsLimit: 256,
      Memory: 512 * 1024 ** 2,
      AutoRemove: false,
      RestartPolicy: { Name: 'no' },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '1m' } },
    },
  };
}

/**
 * Creates and starts the endpoint container and waits until it serves (its ready file), so the agent's first
 * request finds it. Returns its id; on failure the container is removed and the error says what it printed.
 */
export async function startModelEndpoint(
  docker: Dockerode,
  session: HostSession,
  config: Dockerode.ContainerCreateOptions,
  runDir: string,
  timeoutMs = 30_000,
): Promise<string> {
  const container = await docker.createContainer(config);
  try {
    await container.start();
    const ready = shellQuote(path.posix.join(runDir, ENDPOINT_DIR, 'out', 'ready'));
    const tries = Math.max(1, Math.round(timeoutMs / 200));
    const waited = await session.exec(
      `i=0; while [ ! -s ${ready} ]; do i=$((i+1)); [ $i -ge ${tries} ] && exit 1; sleep 0.2; done`,
      { timeoutMs: timeoutMs + 10_000 },
    );
    if (waited.code !== 0) {
      const logs = await container.logs({ stdout: true, stderr: true, tail: 20 }).catch(() => Buffer.from(''));
      throw new AppError(
        'INTERNAL',
        `The scripted model did not start in the run's image (it needs python3): ${logs.toString('utf8').trim() || 'no output'}`,
      );
    }
    return container.id;
  } catch (err) {
    await container.remove({ force: true }).catch(() => undefined);
    throw err;
  }
}

/**
 * `<cli> --version` run in the endpoint's container (the run's image, the sandbox's user): the version the run will
 * use, recorded in run.json and shown on the run; a CLI missing from the image refuses the launch with what to install.
 */
export async function probeAgentVersion(
  docker: Dockerode,
  endpointId: string,
  run: ScriptedRun,
  image: string,
  timeoutMs = 60_000,
): Promise<string> {
  const binary = run.agent.binary ?? '';
  const exec = await docker.getContainer(endpointId).exec({
    Cmd: ['/bin/sh', '-c', 'command -v "$1" >/dev/null 2>&1 || exit 127; exec "$1" --version', 'ptw-version', binary],
    AttachStdout: true,
    AttachStderr: true,
    Env: ['HOME=/tmp'],
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  err.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  docker.modem.demuxStream(stream, out, err);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.destroy();
      reject(new AppError('TIMEOUT', `${binary} --version did not answer in ${timeoutMs / 1000} s in ${image}`));
    }, timeoutMs);
    stream.once('end', () => (clearTimeout(timer), resolve()));
    stream.once('close', () => (clearTimeout(timer), resolve()));
    stream.once('error', (e) => (clearTimeout(timer), reject(e)));
  });
  const { ExitCode } = await exec.inspect();
  const install = isScriptedAgent(run.agent.id) ? SCRIPTED_SETUP[run.agent.id].install : `install ${binary}`;
  if (ExitCode === 127) {
    throw new AppError(
      'HOST_REQUIREMENT_MISSING',
      `The image ${image} has no ${binary} on its PATH, so ${run.agent.label} cannot run in it. Add it to the image ` +
        `(${install}) or choose another image (--image).`,
    );
  }
  const said = (stdout.trim() || stderr.trim()).split('\n')[0]?.trim() ?? '';
  if (ExitCode !== 0) {
    throw new AppError(
      'HOST_REQUIREMENT_MISSING',
      `${binary} --version failed in ${image} (exit ${ExitCode}): ${said || 'no output'}`,
    );
  }
  return said.slice(0, 200);
}
