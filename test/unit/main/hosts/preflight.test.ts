import { readFileSync } from 'node:fs';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../../src/shared/errors';
import type { GpuInfo, PreflightCheck } from '../../../../src/shared/hosts';
import {
  COMPUTE_APPS_FIELDS,
  COMPUTE_APPS_QUERY,
  GPU_INVENTORY_FIELDS,
  GPU_INVENTORY_QUERY,
  parseComputeApps,
  parseNvidiaSmiList,
} from '../../../../src/shared/parsers/nvidia-smi';
import type { ExecResult, HostSession } from '../../../../src/main/hosts/host-exec-types';
import {
  compareContainerGpus,
  compareStatus,
  DEFAULT_DISK_THRESHOLDS,
  demuxDockerLog,
  describeGpuContainerError,
  DOCKER_UNAVAILABLE_FIX,
  formatAge,
  formatBytes,
  judgeDiskSpace,
  judgeGpuOccupancy,
  judgeNvidiaRuntime,
  mapComputeAppsToGpus,
  NVIDIA_TOOLKIT_FIX,
  parseDfOutput,
  parseOsRelease,
  PREFLIGHT_CHECKS,
  remotePathExpression,
  runPreflight,
  worstStatus,
} from '../../../../src/main/hosts/preflight';
import { COMPUTE_APPS_ALIASES, NVIDIA_SMI_FIXTURES, projectQueryCsv } from '../../../support/fake-nvidia-smi';

// Real nvidia-smi output of an H100 host (test/fixtures/PROVENANCE.md).
const read = (name: string): string => readFileSync(path.join(NVIDIA_SMI_FIXTURES, 'extracted', name), 'utf8');
const inventoryText = projectQueryCsv(
  read('h100-80gb-hbm3__idle__query-gpu-all-fields.csv.txt'),
  GPU_INVENTORY_FIELDS,
  {
    header: false,
    units: false,
  },
);
const loadApps = read('h100-80gb-hbm3__load__query-compute-apps.csv.txt');
const loadAppsText = projectQueryCsv(
  loadApps,
  COMPUTE_APPS_FIELDS,
  { header: false, units: false },
  COMPUTE_APPS_ALIASES,
);
const listText = read('h100-80gb-hbm3__list-L.txt');
const tableText = read('h100-80gb-hbm3__idle__default-table.txt');
const GiB = 1024 ** 3;

const H100: GpuInfo = {
  index: 0,
  name: 'NVIDIA H100 80GB HBM3',
  uuid: 'GPU-00000000-0000-0000-0000-000000000000',
  memoryTotalMiB: 81559,
  driverVersion: '590.48.01',
};

describe('status ordering', () => {
  it('orders skip < pass < pending < running < warn < fail', () => {
    const order = ['skip', 'pass', 'pending', 'running', 'warn', 'fail'] as const;
    for (let i = 1; i < order.length; i++) expect(compareStatus(order[i - 1]!, order[i]!)).toBeLessThan(0);
  });

  it('takes the worst status; skipped checks never mask a pass', () => {
    expect(worstStatus(['pass', 'skip', 'pass'])).toBe('pass');
    expect(worstStatus(['pass', 'warn', 'skip'])).toBe('warn');
    expect(worstStatus(['fail', 'warn', 'pass'])).toBe('fail');
    expect(worstStatus(['skip'])).toBe('skip');
    expect(worstStatus([])).toBe('skip');
  });
});

describe('formatting', () => {
  it('formats bytes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1984172)).toBe('1.9 MiB');
    expect(formatBytes(81559 * 1024 * 1024)).toBe('79.6 GiB');
    expect(formatBytes(400 * 1e9)).toBe('373 GiB');
    expect(formatBytes(3 * 1024 ** 4)).toBe('3 TiB');
    expect(formatBytes(20 * 1024 ** 3)).toBe('20 GiB');
  });

  it('formats ages coarsely', () => {
    expect(formatAge(5_000)).toBe('less than a minute');
    expect(formatAge(60_000)).toBe('1 minute');
    expect(formatAge(3 * 3600_000 + 5)).toBe('3 hours');
    expect(formatAge(12 * 86_400_000)).toBe('12 days');
    expect(formatAge(800 * 86_400_000)).toBe('2 years');
  });
});

describe('disk', () => {
  it('warns under 100 GiB and fails under 20 GiB by default', () => {
    expect(DEFAULT_DISK_THRESHOLDS).toEqual({ warnBelowBytes: 100 * GiB, failBelowBytes: 20 * GiB });
    expect(judgeDiskSpace(400 * GiB)).toBe('pass');
    expect(judgeDiskSpace(100 * GiB)).toBe('pass');
    expect(judgeDiskSpace(100 * GiB - 1)).toBe('warn');
    expect(judgeDiskSpace(20 * GiB)).toBe('warn');
    expect(judgeDiskSpace(20 * GiB - 1)).toBe('fail');
    expect(judgeDiskSpace(5 * GiB, { warnBelowBytes: 2 * GiB, failBelowBytes: 1 * GiB })).toBe('pass');
  });

  it('reads df -Pk, names with spaces included', () => {
    const df = parseDfOutput(
      'Filesystem     1024-blocks     Used Available Capacity Mounted on\n/dev/vda         264212084 24373648  82017264      23% /\n',
    );
    expect(df).toEqual({
      filesystem: '/dev/vda',
      sizeBytes: 264212084 * 1024,
      usedBytes: 24373648 * 1024,
      availableBytes: 82017264 * 1024,
      mountPoint: '/',
    });
    expect(
      parseDfOutput('Filesystem 1024-blocks Used Available Capacity Mounted on\nmy disk 10 4 6 40% /mnt/my data\n'),
    ).toMatchObject({
      filesystem: 'my disk',
      availableBytes: 6 * 1024,
      mountPoint: '/mnt/my data',
    });
    expect(() => parseDfOutput('df: /nope: No such file or directory\n')).toThrow(/unexpected df output/);
  });

  it('expands only a leading ~ of the run root, quoting the rest', () => {
    expect(remotePathExpression('~')).toBe('"$HOME"');
    expect(remotePathExpression('~/')).toBe('"$HOME"');
    expect(remotePathExpression('~/posttrain-runs')).toBe(`"$HOME"/posttrain-runs`);
    expect(remotePathExpression('/data/runs $(rm -rf /)')).toBe(`'/data/runs $(rm -rf /)'`);
    expect(remotePathExpression("/data/it's")).toBe(`'/data/it'\\''s'`);
  });
});

describe('os-release', () => {
  it('reads quoted and bare values', () => {
    const values = parseOsRelease(
      'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n# comment\nuser=root\n',
    );
    expect(values).toMatchObject({ PRETTY_NAME: 'Debian GNU/Linux 12 (bookworm)', ID: 'debian', user: 'root' });
  });
});

describe('GPU occupancy', () => {
  it('maps the captured compute apps onto the GPU they hold; all busy is a warning', () => {
    const apps = parseComputeApps(loadApps);
    const occupancy = mapComputeAppsToGpus([H100], apps);
    expect(occupancy.free).toEqual([]);
    expect(occupancy.busy).toHaveLength(1);
    expect(occupancy.busy[0]?.apps.map((a) => a.pid)).toEqual([11327, 11328, 11345]);
    const verdict = judgeGpuOccupancy([H100], occupancy);
    expect(verdict.status).toBe('warn');
    expect(verdict.summary).toBe('All 1 GPU is busy');
    expect(verdict.details).toEqual([
      'GPU 0 busy: pid 11327 /root/tools/memhog (2566 MiB), pid 11328 /root/tools/memhog (1542 MiB), pid 11345 ./gpu_burn (15690 MiB)',
    ]);
    expect(verdict.fix).toBeTruthy();
  });

  it('lists free GPUs, and processes on GPUs the inventory lacks', () => {
    const second: GpuInfo = { ...H100, index: 1, uuid: 'GPU-11111111-1111-1111-1111-111111111111' };
    const apps = [
      { gpuUuid: second.uuid, pid: 7, processName: 'python', usedMemoryMiB: 1000 },
      { gpuUuid: 'GPU-gone', pid: 8, processName: 'ghost', usedMemoryMiB: null },
    ];
    const occupancy = mapComputeAppsToGpus([second, H100], apps);
    expect(occupancy.free).toEqual([0]);
    expect(occupancy.busy.map((b) => b.gpu.index)).toEqual([1]);
    expect(occupancy.unmatched.map((a) => a.pid)).toEqual([8]);
    const verdict = judgeGpuOccupancy([H100, second], occupancy);
    expect(verdict).toMatchObject({ status: 'pass', summary: '1 of 2 GPUs free (GPU 0); 1 busy' });
    expect(verdict.details).toContain('pid 8 ghost on a GPU not in the list (GPU-gone)');
    expect(judgeGpuOccupancy([H100], mapComputeAppsToGpus([H100], []))).toMatchObject({
      status: 'pass',
      summary: 'All 1 GPU is free',
    });
  });
});

describe('NVIDIA runtime', () => {
  // docker info from the test dockerd (Docker 20.10, no NVIDIA toolkit).
  const plain = {
    Runtimes: {
      'io.containerd.runc.v2': { path: 'runc' },
      'io.containerd.runtime.v1.linux': { path: 'runc' },
      runc: { path: 'runc' },
    },
    DefaultRuntime: 'runc',
  };

  it('fails without the nvidia runtime, with the toolkit fix', () => {
    const verdict = judgeNvidiaRuntime(plain);
    expect(verdict.status).toBe('fail');
    expect(verdict.summary).toBe(
      'Docker has no nvidia runtime (runtimes: io.containerd.runc.v2, io.containerd.runtime.v1.linux, runc)',
    );
    expect(verdict.fix).toBe(NVIDIA_TOOLKIT_FIX);
    expect(verdict.fix).toMatch(/nvidia-ctk runtime configure --runtime=docker/);
    expect(verdict.fix).toMatch(/systemctl restart docker/);
  });

  it('passes with the runtime registered (or default), or NVIDIA CDI devices; warns on CDI without them', () => {
    expect(
      judgeNvidiaRuntime({ ...plain, Runtimes: { ...plain.Runtimes, nvidia: { path: 'nvidia-container-runtime' } } }),
    ).toMatchObject({
      status: 'pass',
      summary: 'nvidia runtime registered (default: runc)',
    });
    expect(judgeNvidiaRuntime({ Runtimes: { nvidia: {} }, DefaultRuntime: 'nvidia' }).summary).toBe(
      'nvidia runtime registered (the default)',
    );
    expect(
      judgeNvidiaRuntime({
        ...plain,
        CDISpecDirs: ['/etc/cdi', '/var/run/cdi'],
        DiscoveredDevices: [
          { Source: 'cdi', ID: 'nvidia.com/gpu=0' },
          { Source: 'cdi', ID: 'nvidia.com/gpu=all' },
        ],
      }).status,
    ).toBe('pass');
    expect(judgeNvidiaRuntime({ ...plain, CDISpecDirs: ['/etc/cdi'] })).toMatchObject({
      status: 'warn',
      fix: expect.stringMatching(/nvidia-ctk cdi generate/) as unknown,
    });
  });
});

describe('GPUs inside a container', () => {
  it('passes when the container sees every host GPU by UUID', () => {
    expect(compareContainerGpus([H100], parseNvidiaSmiList(listText))).toMatchObject({
      status: 'pass',
      summary: 'The probe container sees all 1 GPU; UUIDs match the host',
    });
  });

  it('warns when GPUs are missing, fails when there are none', () => {
    const second: GpuInfo = { ...H100, index: 1, uuid: 'GPU-1' };
    const verdict = compareContainerGpus([H100, second], parseNvidiaSmiList(listText));
    expect(verdict.status).toBe('warn');
    expect(verdict.details).toContain('missing in the container: GPU 1 (GPU-1)');
    expect(compareContainerGpus([H100], []).status).toBe('fail');
    expect(compareContainerGpus(undefined, parseNvidiaSmiList(listText)).status).toBe('pass');
  });

  it('maps Docker’s no-GPU-driver error to the toolkit fix', () => {
    // Verbatim from dockerd 20.10 without the NVIDIA toolkit.
    const verdict = describeGpuContainerError('could not select device driver "nvidia" with capabilities: [[gpu]]');
    expect(verdict).toEqual({
      status: 'fail',
      summary: 'Docker cannot give containers GPUs: could not select device driver "nvidia" with capabilities: [[gpu]]',
      fix: NVIDIA_TOOLKIT_FIX,
    });
    expect(
      describeGpuContainerError(
        'failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "nvidia-smi": executable file not found in $PATH: unknown',
      ).summary,
    ).toMatch(/no nvidia-smi/);
    expect(
      describeGpuContainerError('nvidia-smi -L exited with 255: Failed to initialize NVML: Unknown Error').fix,
    ).toMatch(/create-dev-char-symlinks/);
    expect(
      describeGpuContainerError(
        "failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: error running hook #0: error running hook: exit status 1, stdout: , stderr: Auto-detected mode as 'legacy'\nnvidia-container-cli: initialization error: nvml error: driver not loaded: unknown",
      ).summary,
    ).toMatch(/^The NVIDIA container hook failed/);
  });

  it('splits a multiplexed container log', () => {
    const frame = (stream: number, text: string): Buffer => {
      const payload = Buffer.from(text);
      const header = Buffer.alloc(8);
      header[0] = stream;
      header.writeUInt32BE(payload.length, 4);
      return Buffer.concat([header, payload]);
    };
    expect(demuxDockerLog(Buffer.concat([frame(1, 'GPU 0: '), frame(2, 'warn\n'), frame(1, 'x\n')]))).toEqual({
      stdout: 'GPU 0: x\n',
      stderr: 'warn\n',
    });
  });
});

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
  const log = Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 0, listText.length]), Buffer.from(listText)]);
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
        logs: () => Promise.resolve(log),
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

    // The probe asked for every GPU, no network, bypassed the entrypoint, and was removed.
    expect(host.containers).toHaveLength(1);
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
    expect(host.containers).toHaveLength(0);
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
    ]);
    expect(report.checks[2]?.summary).toBe('Preflight was cancelled');
  });

  it('a throwing progress listener does not stop the preflight', async () => {
    const { report } = await preflight(stubHost(), {
      onProgress: () => {
        throw new Error('listener bug');
      },
    });
    expect(report.checks).toHaveLength(8);
  });
});
