import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GpuInfo } from '../../../../src/shared/hosts';
import { parseComputeApps, parseNvidiaSmiList } from '../../../../src/shared/parsers/nvidia-smi';
import { AGENT_CLIS } from '../../../../src/main/hosts/preflight-checks';
import {
  AGENT_CLI_PROBE_SCRIPT,
  judgeAgentClis,
  compareContainerGpus,
  compareStatus,
  DEFAULT_DISK_THRESHOLDS,
  demuxDockerLog,
  describeGpuContainerError,
  formatAge,
  formatBytes,
  judgeDiskSpace,
  judgeGpuOccupancy,
  judgeNvidiaRuntime,
  mapComputeAppsToGpus,
  NVIDIA_TOOLKIT_FIX,
  parseDfOutput,
  parseOsRelease,
  remotePathExpression,
  worstStatus,
} from '../../../../src/main/hosts/preflight-judges';
import { GiB, H100, listText, loadApps } from '../../../support/preflight-fixtures';

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

describe('judgeAgentClis', () => {
  it('lists each agent CLI with what --version printed, or how to install it, and never fails', () => {
    // The probe script run by a real sh over a PATH holding a CLI that answers and one whose --version fails.
    const bin = mkdtempSync(path.join(tmpdir(), 'ptw-clis-'));
    try {
      writeFileSync(
        path.join(bin, 'claude'),
        '#!/bin/sh\necho "WARNING: no PATH aliases" >&2\necho "2.1.337 (Claude Code)"\necho second line\n',
      );
      writeFileSync(path.join(bin, 'opencode'), '#!/bin/sh\necho "cannot start" >&2\nexit 3\n');
      for (const name of ['claude', 'opencode']) chmodSync(path.join(bin, name), 0o755);
      const stdout = execFileSync(
        '/bin/sh',
        ['-c', AGENT_CLI_PROBE_SCRIPT, 'ptw-agent-clis', ...AGENT_CLIS.map((c) => c.binary)],
        { env: { PATH: `${bin}:/usr/bin:/bin`, HOME: '/tmp' }, encoding: 'utf8' },
      );
      expect(judgeAgentClis('ptw/agents:1', AGENT_CLIS, stdout)).toEqual({
        status: 'pass',
        summary: '2 of 4 agent CLIs in ptw/agents:1',
        details: [
          'claude-code 2.1.337 (Claude Code)',
          'codex: not installed (npm install -g @openai/codex)',
          'gemini-cli: not installed (npm install -g @google/gemini-cli)',
          'opencode: opencode --version failed (exit 3): cannot start',
        ],
      });
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('counts a CLI the probe said nothing about as not installed, and one that printed nothing as installed', () => {
    const clis = AGENT_CLIS.slice(0, 2);
    expect(judgeAgentClis('img', clis, 'claude\t0\t\nnoise without tabs\n').details).toEqual([
      'claude-code: installed (printed no version)',
      'codex: not installed (npm install -g @openai/codex)',
    ]);
    expect(judgeAgentClis('img', clis, '').summary).toBe('0 of 2 agent CLIs in img');
  });
});
