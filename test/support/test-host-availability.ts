import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'vitest';
import { SSHD_BINARY } from './test-sshd';
import { findBusybox, isStaticElf } from './test-images';

export const TEST_HOST_INSTALL = 'sudo apt-get install -y openssh-server docker.io busybox-static';

export type TestHostAvailability = { ok: true } | { ok: false; reason: string; install: string };

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Looks on PATH and in the sbin dirs, which a non-root PATH often lacks. */
function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  return dirs
    .filter(Boolean)
    .map((dir) => path.join(dir, name))
    .find(isExecutable);
}

/**
 * Whether this machine can host the real-parts tests: sshd, dockerd (with containerd and runc),
 * ssh-keygen, tar, a static busybox, and root. Root only, on purpose: dockerd and sshd's
 * privilege separation need it, and driving them through sudo would double the harness.
 */
export function checkTestHostAvailability(): TestHostAvailability {
  const missing: string[] = [];
  if (process.platform !== 'linux') {
    return { ok: false, reason: `the test host needs Linux (this is ${process.platform})`, install: TEST_HOST_INSTALL };
  }
  if (!isExecutable(SSHD_BINARY)) missing.push(`${SSHD_BINARY} (openssh-server)`);
  if (!findExecutable('ssh-keygen')) missing.push('ssh-keygen (openssh-client)');
  for (const binary of ['dockerd', 'containerd', 'runc']) {
    if (!findExecutable(binary)) missing.push(`${binary} (docker.io)`);
  }
  if (!findExecutable('tar')) missing.push('tar');
  const busybox = findBusybox();
  if (!busybox) missing.push('busybox (busybox-static)');
  else if (!isStaticElf(busybox)) missing.push(`a static busybox (${busybox} is dynamically linked; busybox-static)`);
  if (missing.length > 0) {
    return { ok: false, reason: `the test host is missing ${missing.join(', ')}`, install: TEST_HOST_INSTALL };
  }
  if (process.getuid?.() !== 0) {
    return {
      ok: false,
      reason:
        'the test host must run as root (it starts dockerd and sshd); passwordless sudo is not supported, run the tests as root, e.g. in a VM or container',
      install: TEST_HOST_INSTALL,
    };
  }
  return { ok: true };
}

let warned = false;

/**
 * `describe` for suites that need a real sshd + dockerd. Without one the suite is skipped with
 * a note on stderr, except on CI (`CI=true`), where a missing host is a failure, not a silent skip.
 */
export function describeWithTestHost(name: string, fn: () => void): void {
  const availability = checkTestHostAvailability();
  if (availability.ok) {
    describe(name, fn);
    return;
  }
  const message = `${availability.reason}. Install with: ${availability.install}`;
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('has a test host (sshd + dockerd)', () => {
        throw new Error(message);
      });
    });
    return;
  }
  if (!warned) {
    warned = true;
    process.stderr.write(`[test host] skipping real sshd/dockerd suites: ${message}\n`);
  }
  describe.skip(name, fn);
}
