import path from 'node:path';
import type { ConnectConfig } from 'ssh2';
import { type CaptureState, type FakeNvidiaSmi, writeFakeNvidiaSmi } from './fake-nvidia-smi';
import { type TestDockerd, type TestDockerdOptions, startTestDockerd } from './test-dockerd';
import { BUSYBOX_IMAGE, buildBusyboxImage } from './test-images';
import { type TestSshd, type TestSshdOptions, startTestSshd } from './test-sshd';

export interface TestHost {
  sshd: TestSshd;
  dockerd: TestDockerd;
  /** Tag of the busybox image already present in `dockerd`. */
  busyboxImage: string;
  /** ssh2 settings for the test user, host key pinned. */
  connectConfig(overrides?: Partial<ConnectConfig>): ConnectConfig;
  /** Stops sshd and dockerd (by PID) and removes their temp dirs; safe to call twice. */
  stop(): Promise<void>;
}

export interface TestHostOptions {
  sshd?: TestSshdOptions;
  dockerd?: TestDockerdOptions;
}

/** A "remote GPU host" on this machine: sshd in front of a private dockerd with a busybox image. */
export async function startTestHost(opts: TestHostOptions = {}): Promise<TestHost> {
  const [sshdResult, dockerdResult] = await Promise.allSettled([
    startTestSshd(opts.sshd),
    startTestDockerd(opts.dockerd),
  ]);
  const sshd = sshdResult.status === 'fulfilled' ? sshdResult.value : undefined;
  const dockerd = dockerdResult.status === 'fulfilled' ? dockerdResult.value : undefined;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      const results = await Promise.allSettled([sshd?.stop(), dockerd?.stop()]);
      const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      if (errors.length > 0) throw new AggregateError(errors, 'stopping the test host failed');
    })();
    return stopped;
  };
  if (!sshd || !dockerd) {
    await stop().catch(() => undefined);
    const failed = [sshdResult, dockerdResult].find((r) => r.status === 'rejected');
    throw (failed as PromiseRejectedResult).reason;
  }
  try {
    const busyboxImage = await buildBusyboxImage(dockerd.docker, BUSYBOX_IMAGE);
    return {
      sshd,
      dockerd,
      busyboxImage,
      connectConfig: (overrides) => sshd.connectConfig(overrides),
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** The PATH of the test host's SSH exec sessions, without the fake nvidia-smi. */
export const TEST_HOST_SYSTEM_PATH = '/usr/local/bin:/usr/bin:/bin';

export interface GpuTestHost extends TestHost {
  /** The fake nvidia-smi on the SSH sessions' PATH; undefined for a CPU-only host (`nvidiaSmi: 'none'`). */
  nvidiaSmi: FakeNvidiaSmi | undefined;
}

/**
 * A "remote GPU host": {@link startTestHost} with a fake nvidia-smi (replaying a real H100 capture, written under
 * `work/fakebin`) first on the PATH of its SSH exec sessions. sshd applies SetEnv after its own PATH default, so the
 * fake comes before any nvidia-smi of this machine.
 */
export async function startGpuTestHost(
  work: string,
  options: { nvidiaSmi?: CaptureState | 'none'; pathDirs?: string; sshdConfig?: string[] } = {},
): Promise<GpuTestHost> {
  const state = options.nvidiaSmi ?? 'load';
  const pathDirs = options.pathDirs ?? TEST_HOST_SYSTEM_PATH;
  const fake = state === 'none' ? undefined : await writeFakeNvidiaSmi({ binDir: path.join(work, 'fakebin'), state });
  const sessionPath = fake ? `${fake.binDir}:${pathDirs}` : pathDirs;
  // sshd obeys only the first SetEnv line: other variables the caller sets join PATH's.
  const extra = options.sshdConfig ?? [];
  const setEnv = extra.filter((l) => l.startsWith('SetEnv ')).map((l) => ` ${l.slice('SetEnv '.length)}`);
  const host = await startTestHost({
    sshd: {
      extraConfig: [`SetEnv PATH=${sessionPath}${setEnv.join('')}`, ...extra.filter((l) => !l.startsWith('SetEnv '))],
    },
  });
  return { ...host, nvidiaSmi: fake };
}
