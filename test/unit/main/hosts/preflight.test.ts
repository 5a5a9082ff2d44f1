import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../../src/shared/errors';
import type { PreflightCheck } from '../../../../src/shared/hosts';
import { COMPUTE_APPS_QUERY, GPU_INVENTORY_QUERY } from '../../../../src/shared/parsers/nvidia-smi';
import type { ExecResult, HostSession } from '../../../../src/main/hosts/host-exec-types';
import { DOCKER_UNAVAILABLE_FIX, NVIDIA_TOOLKIT_FIX } from '../../../../src/main/hosts/preflight-judges';
import { PREFLIGHT_CHECKS, runPreflight } from '../../../../src/main/hosts/preflight';
import { GiB, H100, inventoryText, listText, loadAppsText, tableText } from '../../../support/preflight-fixtures';

// --- runPreflight against stand-ins for the host and Docker --------------------------------------------------

function ok(stdout: string): ExecResult {
  return { code: 0, stdout, stderr: '' };
}

interface StubHost {
  session: Pick<HostSession, 'exec' | 'docker' | 'ping'>;
  commands: string[];
  containers: { options: Dockerode.ContainerCreateOptions; removed: boolean }[];
}

/**
 * A host that answers like a working H100 box: nvidia-smi output from the capture, a probe container that prints
 * the captured `nvidia-smi -L`. Parts can be broken per test.
 */
function stubHost(
  overrides: {
    exec?: (command: string) => ExecResult | undefined;
    docker?: () => Promise<Dockerode>;
    info?: object;
    startError?: Error;
    images?: Record<string, { Size: number; Created: string; Id: string }>;
  } = {},
): StubHost {
  const commands: string[] = [];
  const containers: StubHost['containers'] = [];
  const images = overrides.images ?? {
    'ptw/sandbox:1': {
      Size: 2 * GiB,
      Created: new Date(Date.now() - 3 * 86_400_000).toISOString(),
      Id: 'sha256:0123456789abcdef',
    },
  };
  const notFound = (what: string): Error =>
    Object.assign(new Error(`(HTTP code 404) no such image - ${what}`), { statusCode: 404 });
  const frame = (text: string): Buffer => {
    const header = Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]);
    header.writeUInt32BE(Buffer.byteLength(text), 4);
    return Buffer.concat([header, Buffer.from(text)]);
  };
  const log = frame(listText);
  // What the agent CLI probe prints in an image with Claude Code and OpenCode only (the shape it writes).
  const cliLog = frame('claude\t0\t2.1.337 (Claude Code)\ncodex\t127\t\ngemini\t127\t\nopencode\t0\t1.18.33\n');
  const docker = {
    version: () =>
      Promise.resolve({ Version: '27.3.1', ApiVersion: '1.47', MinAPIVersion: '1.24', Os: 'linux', Arch: 'amd64' }),
    info: () => Promise.resolve(overrides.info ?? { Runtimes: { nvidia: {}, runc: {} }, DefaultRuntime: 'runc' }),
    getImage: (name: string) => ({
      inspect: () => (images[name] ? Promise.resolve(images[name]) : Promise.reject(notFound(name))),
    }),
    createContainer: (options: Dockerode.ContainerCreateOptions) => {
      const record = { options, removed: false };
      containers.push(record);
      return Promise.resolve({
        start: () => (overrides.startError ? Promise.reject(overrides.startError) : Promise.resolve()),
        wait: () => Promise.resolve({ StatusCode: 0 }),
        logs: () => Promise.resolve(options.Entrypoint?.[0] === '/bin/sh' ? cliLog : log),
        kill: () => Promise.resolve(),
        remove: () => {
          record.removed = true;
          return Promise.resolve();
        },
      });
    },
  } as unknown as Dockerode;
  const session: Pick<HostSession, 'exec' | 'docker' | 'ping'> = {
    exec: (command) => {
      commands.push(command);
      const custom = overrides.exec?.(command);
      if (custom) return Promise.resolve(custom);
      if (command.startsWith('printf'))
        return Promise.resolve(ok('user=ptw\nkernel=6.1.0-28-amd64\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'));
      if (command === GPU_INVENTORY_QUERY) return Promise.resolve(ok(inventoryText));
      if (command === COMPUTE_APPS_QUERY) return Promise.resolve(ok(''));
      if (command === 'nvidia-smi') return Promise.resolve(ok(tableText));
      if (command.includes('df -Pk')) {
        return Promise.resolve(
          ok(
            '/home/ptw/posttrain-runs\n/home/ptw\nFilesystem 1024-blocks Used Available Capacity Mounted on\n/dev/nvme0n1p2 1000000000 100000000 900000000 10% /home\n',
          ),
        );
      }
      return Promise.resolve({ code: 127, stdout: '', stderr: `sh: 1: ${command}: not found\n` });
    },
    docker: overrides.docker ?? (() => Promise.resolve(docker)),
    ping: () => Promise.resolve(4.2),
  };
  return { session, commands, containers };
}

async function preflight(host: StubHost, extra: Partial<Parameters<typeof runPreflight>[0]> = {}) {
  const progress: PreflightCheck[] = [];
  const announced: PreflightCheck[] = [];
  const report = await runPreflight({
    host: 'h100-box',
    session: host.session,
    dockerSocket: '/var/run/docker.sock',
    runRoot: '~/posttrain-runs',
    requiredImages: ['ptw/sandbox:1'],
    // The checklist is announced as pending first; the assertions below follow each check after that.
    onProgress: (check) => (check.status === 'pending' ? announced : progress).push(check),
    ...extra,
  });
  const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
  return { report, progress, announced, byId };
}

describe('runPreflight', () => {
  it('announces the whole checklist as pending before running anything', async () => {
    const host = stubHost();
    const { announced, progress } = await preflight(host);
    expect(announced.map((c) => c.id)).toEqual(PREFLIGHT_CHECKS.map((c) => c.id));
    expect(progress.every((c) => c.status !== 'pending')).toBe(true);
  });

  it('titles the first check for the kind of host: the SSH connection, or this machine for a local host', async () => {
    const ssh = await preflight(stubHost());
    expect(ssh.announced[0]!.title).toBe('SSH connection');
    expect(ssh.byId.ssh!.title).toBe('SSH connection');
    const local = await preflight(stubHost(), { hostKind: 'local' });
    expect(local.announced[0]!.title).toBe('This machine');
    expect(local.byId.ssh!.title).toBe('This machine');
    expect(local.byId.docker!.title).toBe('Docker');
  });

  it('runs every check in order, each reported running and then done, on a healthy GPU host', async () => {
    const host = stubHost();
    const { report, progress, byId } = await preflight(host);
    const ids = PREFLIGHT_CHECKS.map((c) => c.id);
    expect(report.checks.map((c) => c.id)).toEqual(ids);
    expect(progress.map((c) => `${c.id}:${c.status === 'running' ? 'running' : 'done'}`)).toEqual(
      ids.flatMap((id) => [`${id}:running`, `${id}:done`]),
    );
    for (const check of report.checks) expect(check.durationMs).toBeGreaterThanOrEqual(0);
    expect(report.checks.map((c) => c.status)).toEqual([
      'pass',
      'pass',
      'pass',
      'pass',
      'pass',
      'pass',
      'pass',
      'pass',
      'pass',
    ]);
    expect(report.overall).toBe('pass');
    expect(report.gpus).toEqual([H100]);
    expect(report.freeGpus).toEqual([0]);
    expect(byId.ssh?.summary).toBe('ptw · 4 ms round trip · Debian GNU/Linux 12 (bookworm) · kernel 6.1.0-28-amd64');
    expect(byId.docker?.summary).toBe('Docker 27.3.1, API 1.47');
    expect(byId.gpus?.summary).toBe('1 × NVIDIA H100 80GB HBM3; driver 590.48.01, CUDA 13.1');
    expect(byId['gpu-container']?.summary).toBe('The probe container sees all 1 GPU; UUIDs match the host');
    expect(byId.disk?.summary).toBe('858 GiB free at /home/ptw (/home/ptw/posttrain-runs does not exist yet)');
    expect(byId.images?.details[0]).toBe('ptw/sandbox:1: 2 GiB, built 3 days ago, 0123456789ab');

    // The agent CLIs' versions in the run image, as information.
    expect(byId['agent-clis']).toMatchObject({
      status: 'pass',
      summary: '2 of 4 agent CLIs in ptw/sandbox:1',
      details: [
        'claude-code 2.1.337 (Claude Code)',
        'codex: not installed (npm install -g @openai/codex)',
        'gemini-cli: not installed (npm install -g @google/gemini-cli)',
        'opencode 1.18.33',
      ],
    });
    expect(host.containers[1]?.options).toMatchObject({
      Image: 'ptw/sandbox:1',
      Cmd: ['claude', 'codex', 'gemini', 'opencode'],
      HostConfig: { NetworkMode: 'none' },
    });
    expect(host.containers[1]?.removed).toBe(true);

    // The probe asked for every GPU, no network, bypassed the entrypoint, and was removed.
    expect(host.containers).toHaveLength(2);
    expect(host.containers[0]?.options).toMatchObject({
      Image: 'ptw/sandbox:1',
      Entrypoint: ['nvidia-smi'],
      Cmd: ['-L'],
      HostConfig: { NetworkMode: 'none', DeviceRequests: [{ Driver: 'nvidia', Count: -1, Capabilities: [['gpu']] }] },
    });
    expect(host.containers[0]?.removed).toBe(true);
    // The run root is measured through $HOME, never created.
    const disk = host.commands.find((c) => c.includes('df -Pk'));
    expect(disk).toContain(`r="$HOME"/posttrain-runs`);
    expect(disk).not.toMatch(/mkdir/);
  });

  it('reports busy GPUs from the captured processes, with no free GPU', async () => {
    const host = stubHost({ exec: (c) => (c === COMPUTE_APPS_QUERY ? ok(loadAppsText) : undefined) });
    const { report, byId } = await preflight(host);
    expect(byId['gpu-busy']).toMatchObject({ status: 'warn', summary: 'All 1 GPU is busy' });
    expect(report.freeGpus).toEqual([]);
    expect(report.overall).toBe('warn');
  });

  it('keeps going when Docker is unreachable: Docker-bound checks skip, the rest run', async () => {
    const host = stubHost({
      docker: () =>
        Promise.reject(
          new AppError(
            'DOCKER_UNAVAILABLE',
            'Cannot reach the Docker socket /var/run/docker.sock on the host over SSH: open failed',
          ),
        ),
    });
    const { report, byId } = await preflight(host);
    expect(byId.docker).toMatchObject({ status: 'fail', fix: DOCKER_UNAVAILABLE_FIX });
    expect(byId.docker?.summary).toMatch(/^Docker is not reachable at \/var\/run\/docker.sock: Cannot reach/);
    expect(byId.docker?.fix).toMatch(/is dockerd running/i);
    expect(byId.docker?.fix).toMatch(/docker group/);
    for (const id of ['nvidia-runtime', 'gpu-container', 'images']) expect(byId[id]?.status).toBe('skip');
    for (const id of ['ssh', 'gpus', 'gpu-busy', 'disk']) expect(byId[id]?.status).toBe('pass');
    expect(report.overall).toBe('fail');
  });

  it('fails the GPU probe with the fix when Docker has no GPU driver, and removes the container', async () => {
    const host = stubHost({
      info: { Runtimes: { runc: {} }, DefaultRuntime: 'runc' },
      startError: Object.assign(new Error('(HTTP code 500) server error - could not select device driver'), {
        statusCode: 500,
        json: { message: 'could not select device driver "nvidia" with capabilities: [[gpu]]' },
      }),
    });
    const { byId } = await preflight(host);
    expect(byId['nvidia-runtime']).toMatchObject({ status: 'fail', fix: NVIDIA_TOOLKIT_FIX });
    expect(byId['gpu-container']).toMatchObject({
      status: 'fail',
      summary: 'Docker cannot give containers GPUs: could not select device driver "nvidia" with capabilities: [[gpu]]',
      fix: NVIDIA_TOOLKIT_FIX,
    });
    expect(host.containers[0]?.removed).toBe(true);
  });

  it('softens a missing runtime to a warning once the probe shows GPU containers work', async () => {
    const host = stubHost({ info: { Runtimes: { runc: {} }, DefaultRuntime: 'runc' } });
    const { report, progress, byId } = await preflight(host);
    expect(byId['gpu-container']?.status).toBe('pass');
    expect(byId['nvidia-runtime']).toMatchObject({ status: 'warn' });
    expect(byId['nvidia-runtime']?.summary).toMatch(/but GPU containers work/);
    // The UI hears the amended verdict after the probe's.
    const runtimeEvents = progress.filter((c) => c.id === 'nvidia-runtime').map((c) => c.status);
    expect(runtimeEvents).toEqual(['running', 'fail', 'warn']);
    expect(report.overall).toBe('warn');
  });

  it('fails gpus with the driver fix when nvidia-smi is missing, and skips what needs it', async () => {
    const host = stubHost({
      info: { Runtimes: { runc: {} }, DefaultRuntime: 'runc' },
      exec: (c) =>
        c.startsWith('nvidia-smi')
          ? { code: 127, stdout: '', stderr: 'bash: line 1: nvidia-smi: command not found\n' }
          : undefined,
    });
    const { byId, report } = await preflight(host);
    expect(byId.gpus).toMatchObject({ status: 'fail', summary: 'nvidia-smi not found on the host' });
    expect(byId.gpus?.fix).toMatch(/^Install the NVIDIA driver/);
    expect(byId['gpu-container']?.status).toBe('skip');
    expect(byId['gpu-busy']?.status).toBe('skip');
    expect(host.containers.filter((c) => c.options.Entrypoint?.[0] === 'nvidia-smi')).toHaveLength(0);
    expect(report.gpus).toEqual([]);
  });

  it('fails gpus with what nvidia-smi said when the driver is not loaded', async () => {
    const message =
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.";
    const host = stubHost({
      exec: (c) => (c === GPU_INVENTORY_QUERY ? { code: 9, stdout: `${message}\n\n`, stderr: '' } : undefined),
    });
    const { byId } = await preflight(host);
    expect(byId.gpus?.summary).toBe(`nvidia-smi failed (exit 9): ${message}`);
    expect(byId.gpus?.fix).toMatch(/lsmod/);
  });

  it('fails images with `docker pull` (or the configured fix) for each missing one', async () => {
    const host = stubHost();
    const { byId } = await preflight(host, {
      requiredImages: ['ptw/sandbox:1', 'ptw/evaluator:2', 'local/agent:dev'],
      imageFixes: { 'local/agent:dev': 'build it with `make agent-image`' },
    });
    expect(byId.images).toMatchObject({
      status: 'fail',
      summary: '1 of 3 images present; missing: ptw/evaluator:2, local/agent:dev',
      fix: 'On the host: docker pull ptw/evaluator:2; build it with `make agent-image`',
    });
  });

  it('skips the rest once cancelled', async () => {
    const controller = new AbortController();
    const host = stubHost();
    const { report } = await preflight(host, {
      signal: controller.signal,
      onProgress: (check) => {
        if (check.id === 'docker' && check.status !== 'running' && check.status !== 'pending') controller.abort();
      },
    });
    expect(report.checks.map((c) => c.status)).toEqual([
      'pass',
      'pass',
      'skip',
      'skip',
      'skip',
      'skip',
      'skip',
      'skip',
      'skip',
    ]);
    expect(report.checks[2]?.summary).toBe('Preflight was cancelled');
  });

  it('a throwing progress listener does not stop the preflight', async () => {
    const { report } = await preflight(stubHost(), {
      onProgress: () => {
        throw new Error('listener bug');
      },
    });
    expect(report.checks).toHaveLength(PREFLIGHT_CHECKS.length);
  });
});
