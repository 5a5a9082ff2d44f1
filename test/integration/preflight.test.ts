import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PreflightCheck, PreflightReport } from '../../src/shared/hosts';
import {
  COMPUTE_APPS_FIELDS,
  COMPUTE_APPS_QUERY,
  GPU_INVENTORY_FIELDS,
  GPU_INVENTORY_QUERY,
  GPU_SAMPLE_FIELDS,
  GPU_SAMPLE_QUERY,
} from '../../src/shared/parsers/nvidia-smi';
import { PREFLIGHT_CHECKS, runPreflight, type PreflightInput } from '../../src/main/hosts/preflight';
import { DOCKER_UNAVAILABLE_FIX, NVIDIA_DRIVER_FIX, NVIDIA_TOOLKIT_FIX } from '../../src/main/hosts/preflight-judges';
import { DirectHostSession } from '../support/direct-host-session';
import {
  COMPUTE_APPS_ALIASES,
  type FakeNvidiaSmi,
  H100_CAPTURE,
  NVIDIA_SMI_FIXTURES,
  parseCapture,
  projectQueryCsv,
} from '../support/fake-nvidia-smi';
import { describeWithTestHost } from '../support/test-host-availability';
import { type GpuTestHost, startGpuTestHost, TEST_HOST_SYSTEM_PATH } from '../support/test-host';
import { startTestSshd } from '../support/test-sshd';

const extracted = (name: string): string => readFileSync(path.join(NVIDIA_SMI_FIXTURES, 'extracted', name), 'utf8');
const MISSING_IMAGE = 'ptw-test/not-pulled:1';

describe('fake nvidia-smi: sections cut from the capture', () => {
  it('cuts the same bytes as the extracted fixtures, per INDEX.md', () => {
    const sections = parseCapture(readFileSync(H100_CAPTURE, 'utf8'));
    const body = (state: string, labelPrefix: string): string | undefined =>
      sections.find((s) => s.state === state && s.label.startsWith(labelPrefix))?.body;
    expect(body('capabilities', 'version')).toBe(extracted('h100-80gb-hbm3__version.txt'));
    expect(body('capabilities', 'list (-L)')).toBe(extracted('h100-80gb-hbm3__list-L.txt'));
    expect(body('idle', 'nvidia-smi (default table)')).toBe(extracted('h100-80gb-hbm3__idle__default-table.txt'));
    expect(body('load', 'nvidia-smi (default table)')).toBe(extracted('h100-80gb-hbm3__load__default-table.txt'));
    expect(body('load', 'query-compute-apps')).toBe(extracted('h100-80gb-hbm3__load__query-compute-apps.csv.txt'));
    expect(body('idle', 'query-gpu (csv')).toBe(extracted('h100-80gb-hbm3__idle__query-gpu-all-fields.csv.txt'));
    expect(body('load', 'query-gpu (csv')).toBe(extracted('h100-80gb-hbm3__load__query-gpu-all-fields.csv.txt'));
    // Idle, no process held the GPU: the section is the header alone, so the fake lists no processes.
    expect(body('idle', 'query-compute-apps')).toBe(
      'timestamp, gpu_name, gpu_bus_id, gpu_serial, gpu_uuid, pid, process_name, used_gpu_memory [MiB]\n',
    );
    expect(sections.find((s) => s.label === 'list (-L)')?.command).toBe('nvidia-smi -L');
  });
});

/** Runs preflight and keeps every progress event. */
async function preflight(
  input: Omit<PreflightInput, 'onProgress' | 'host'>,
): Promise<{ report: PreflightReport; progress: PreflightCheck[]; byId: Record<string, PreflightCheck> }> {
  const progress: PreflightCheck[] = [];
  const report = await runPreflight({
    host: 'test-host',
    onProgress: (check) => {
      if (check.status !== 'pending') progress.push(check);
    },
    // DirectHostSession's ping is an exec, so it includes the login shell's startup: ~200 ms where root's
    // .bashrc runs `pyenv init`, more on a loaded CI box. These tests check the report, not this machine's speed.
    slowLatencyMs: 10_000,
    ...input,
  });
  return { report, progress, byId: Object.fromEntries(report.checks.map((c) => [c.id, c])) };
}

function prettyName(): string {
  return /^PRETTY_NAME="?(.*?)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '';
}

/** A real nvidia-smi on the system PATH would defeat the "no nvidia-smi" variant (a GPU dev box). */
const systemHasNvidiaSmi = TEST_HOST_SYSTEM_PATH.split(':').some((dir) => existsSync(path.join(dir, 'nvidia-smi')));

describeWithTestHost('preflight against a real sshd + dockerd, with a fake nvidia-smi on the SSH PATH', () => {
  let workDir: string;
  let fake: FakeNvidiaSmi;
  let host: GpuTestHost;
  let session: DirectHostSession;

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'ptw-preflight-'));
    host = await startGpuTestHost(workDir, { nvidiaSmi: 'load' });
    fake = host.nvidiaSmi!;
    session = await DirectHostSession.connect(host.connectConfig(), { dockerSocket: host.dockerd.socketPath });
  });

  afterAll(async () => {
    await session?.close();
    await host?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('sshd puts the fake on the exec session PATH, and it replays the capture', async () => {
    expect((await session.exec('command -v nvidia-smi')).stdout.trim()).toBe(fake.scriptPath);
    const loadAll = extracted('h100-80gb-hbm3__load__query-gpu-all-fields.csv.txt');

    const inventory = await session.exec(GPU_INVENTORY_QUERY);
    expect(inventory).toMatchObject({ code: 0, stderr: '' });
    expect(inventory.stdout).toBe(projectQueryCsv(loadAll, GPU_INVENTORY_FIELDS, { header: false, units: false }));
    expect(inventory.stdout).toBe(
      '0, NVIDIA H100 80GB HBM3, GPU-00000000-0000-0000-0000-000000000000, 81559, 590.48.01\n',
    );
    expect((await session.exec(GPU_SAMPLE_QUERY)).stdout).toBe('0, 100, 19818, 81559, 631.95, 59\n');
    const withUnits = await session.exec(`nvidia-smi --query-gpu=${GPU_SAMPLE_FIELDS.join(',')} --format=csv`);
    expect(withUnits.stdout).toBe(projectQueryCsv(loadAll, GPU_SAMPLE_FIELDS, { header: true, units: true }));

    const apps = await session.exec(COMPUTE_APPS_QUERY);
    expect(apps.stdout).toBe(
      projectQueryCsv(
        extracted('h100-80gb-hbm3__load__query-compute-apps.csv.txt'),
        COMPUTE_APPS_FIELDS,
        { header: false, units: false },
        COMPUTE_APPS_ALIASES,
      ),
    );
    expect((await session.exec('nvidia-smi')).stdout).toBe(extracted('h100-80gb-hbm3__load__default-table.txt'));
    expect((await session.exec('nvidia-smi -L')).stdout).toBe(extracted('h100-80gb-hbm3__list-L.txt'));

    expect(await session.exec('nvidia-smi --no-such-flag')).toMatchObject({
      code: 2,
      stdout: "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n",
    });
    expect(await session.exec('nvidia-smi --query-gpu=index,bogus --format=csv')).toMatchObject({
      code: 2,
      stdout: 'Field "bogus" is not a valid field to query.\n\n',
    });
  });

  it('reports every check in order with what the host really has', async () => {
    const runRoot = path.join(workDir, 'runs', 'not-yet');
    const { report, progress, byId } = await preflight({
      session,
      dockerSocket: host.dockerd.socketPath,
      runRoot,
      requiredImages: [host.busyboxImage, MISSING_IMAGE],
      // Far below what any disk has: pass.
      disk: { warnBelowBytes: 1024 * 1024, failBelowBytes: 1024 },
    });
    const ids = PREFLIGHT_CHECKS.map((c) => c.id);
    expect(report.checks.map((c) => c.id)).toEqual(ids);
    expect(progress.map((c) => `${c.id}:${c.status === 'running' ? 'running' : 'done'}`)).toEqual(
      ids.flatMap((id) => [`${id}:running`, `${id}:done`]),
    );
    for (const check of report.checks) expect(check.durationMs).toBeGreaterThanOrEqual(0);

    expect(byId.ssh?.status).toBe('pass');
    expect(byId.ssh?.summary).toMatch(new RegExp(`^${os.userInfo().username} · \\d+ ms round trip · `));
    expect(byId.ssh?.details).toEqual(
      expect.arrayContaining([`OS: ${prettyName()}`, `Kernel: ${os.release()}`]) as unknown,
    );

    const version = await host.dockerd.docker.version();
    expect(byId.docker).toMatchObject({
      status: 'pass',
      summary: `Docker ${version.Version}, API ${version.ApiVersion}`,
    });

    // The test dockerd has runc only.
    expect(byId['nvidia-runtime']).toMatchObject({ status: 'fail', fix: NVIDIA_TOOLKIT_FIX });
    expect(byId['nvidia-runtime']?.summary).toMatch(/^Docker has no nvidia runtime \(runtimes: .*runc/);

    expect(byId.gpus).toMatchObject({
      status: 'pass',
      summary: '1 × NVIDIA H100 80GB HBM3; driver 590.48.01, CUDA 13.1',
    });
    expect(report.gpus).toEqual([
      {
        index: 0,
        name: 'NVIDIA H100 80GB HBM3',
        uuid: 'GPU-00000000-0000-0000-0000-000000000000',
        memoryTotalMiB: 81559,
        driverVersion: '590.48.01',
      },
    ]);

    // A real container with a GPU request: dockerd refuses it for want of the NVIDIA driver hook.
    expect(byId['gpu-container']).toMatchObject({
      status: 'fail',
      summary: 'Docker cannot give containers GPUs: could not select device driver "nvidia" with capabilities: [[gpu]]',
      fix: NVIDIA_TOOLKIT_FIX,
    });
    const leftovers = await host.dockerd.docker.listContainers({ all: true, filters: { label: ['ptw.preflight'] } });
    expect(leftovers).toEqual([]);

    // Under load, three captured processes hold the only GPU.
    expect(byId['gpu-busy']).toMatchObject({ status: 'warn', summary: 'All 1 GPU is busy' });
    expect(byId['gpu-busy']?.details).toEqual([
      'GPU 0 busy: pid 11327 /root/tools/memhog (2566 MiB), pid 11328 /root/tools/memhog (1542 MiB), pid 11345 ./gpu_burn (15690 MiB)',
    ]);
    expect(report.freeGpus).toEqual([]);

    expect(byId.disk?.status).toBe('pass');
    expect(byId.disk?.summary).toMatch(new RegExp(` free at ${workDir} \\(${runRoot} does not exist yet\\)$`));
    expect(existsSync(path.join(workDir, 'runs'))).toBe(false);

    expect(byId.images).toMatchObject({
      status: 'fail',
      summary: `1 of 2 images present; missing: ${MISSING_IMAGE}`,
      fix: `On the host: docker pull ${MISSING_IMAGE}`,
    });
    expect(byId.images?.details[0]).toMatch(
      new RegExp(`^${host.busyboxImage}: [\\d.]+ MiB, built .* ago, [0-9a-f]{12}$`),
    );
    expect(byId.images?.details[1]).toBe(`${MISSING_IMAGE}: missing`);
    // The run image (busybox) has none of the agent CLIs: information, not a failure, each with its install line.
    expect(byId['agent-clis']).toMatchObject({
      status: 'pass',
      summary: `0 of 4 agent CLIs in ${host.busyboxImage}`,
      details: [
        'claude-code: not installed (npm install -g @anthropic-ai/claude-code)',
        'codex: not installed (npm install -g @openai/codex)',
        'gemini-cli: not installed (npm install -g @google/gemini-cli)',
        'opencode: not installed (npm install -g opencode-ai)',
      ],
    });
    expect(await host.dockerd.docker.listContainers({ all: true, filters: { label: ['ptw.preflight'] } })).toEqual([]);

    expect(report.overall).toBe('fail');
    expect(report.host).toBe('test-host');
    expect(Date.parse(report.finishedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(report.startedAt));
  });

  it.skipIf(systemHasNvidiaSmi)('fails gpus with the driver fix when nvidia-smi is not on the PATH', async () => {
    const sshd = await startTestSshd({ extraConfig: [`SetEnv PATH=${TEST_HOST_SYSTEM_PATH}`] });
    const plain = await DirectHostSession.connect(sshd.connectConfig(), { dockerSocket: host.dockerd.socketPath });
    try {
      expect((await plain.exec('command -v nvidia-smi')).code).not.toBe(0);
      const { report, byId } = await preflight({
        session: plain,
        dockerSocket: host.dockerd.socketPath,
        // `~` is the SSH user's home, expanded by the host's shell.
        runRoot: `~/ptw-preflight-absent-${path.basename(workDir)}`,
        requiredImages: [host.busyboxImage],
        // Far above what any test disk has free: warn.
        disk: { warnBelowBytes: 1024 ** 6, failBelowBytes: 1024 },
      });
      expect(byId.gpus).toMatchObject({
        status: 'fail',
        summary: 'nvidia-smi not found on the host',
        fix: NVIDIA_DRIVER_FIX,
      });
      expect(byId.gpus?.fix).toMatch(/install the NVIDIA driver/i);
      // No runtime and no driver: nothing for a probe container to learn.
      expect(byId['gpu-container']?.status).toBe('skip');
      expect(byId['gpu-busy']?.status).toBe('skip');
      expect(report.gpus).toEqual([]);
      expect(byId.disk?.status).toBe('warn');
      expect(byId.disk?.summary).toContain(` free at ${os.homedir()} (${os.homedir()}/ptw-preflight-absent-`);
      expect(byId.disk?.fix).toMatch(/400 GB/);
      expect(byId.images?.status).toBe('pass');
    } finally {
      await plain.close();
      await sshd.stop();
    }
  });

  // Last: it stops this file's dockerd.
  it('fails docker clearly once dockerd is stopped, and still runs the checks that do not need it', async () => {
    await host.dockerd.stop();
    const fresh = await DirectHostSession.connect(host.connectConfig(), { dockerSocket: host.dockerd.socketPath });
    try {
      const { report, byId } = await preflight({
        session: fresh,
        dockerSocket: host.dockerd.socketPath,
        runRoot: workDir,
        requiredImages: [host.busyboxImage],
        disk: { warnBelowBytes: 1024 * 1024, failBelowBytes: 1024 },
      });
      expect(byId.docker).toMatchObject({ status: 'fail', fix: DOCKER_UNAVAILABLE_FIX });
      expect(byId.docker?.summary).toContain(
        `Docker is not reachable at ${host.dockerd.socketPath}: Cannot reach the Docker socket`,
      );
      expect(byId.docker?.fix).toMatch(/Is dockerd running.*docker group/);
      for (const id of ['nvidia-runtime', 'gpu-container', 'images', 'agent-clis']) {
        expect(byId[id]).toMatchObject({ status: 'skip', summary: 'Docker is not reachable (see the Docker check)' });
      }
      expect(byId.ssh?.status).toBe('pass');
      expect(byId.gpus?.status).toBe('pass');
      expect(byId['gpu-busy']?.status).toBe('warn');
      expect(byId.disk).toMatchObject({ status: 'pass' });
      expect(byId.disk?.summary).toMatch(new RegExp(` free at ${workDir}$`));
      expect(report.overall).toBe('fail');
    } finally {
      await fresh.close();
    }
  });
});
