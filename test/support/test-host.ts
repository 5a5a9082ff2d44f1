import type { ConnectConfig } from 'ssh2';
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
