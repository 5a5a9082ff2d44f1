import { describe, expect, it } from 'vitest';
import { handOverScript, prepareScript } from '../../../../src/main/runs/host-scripts';
import {
  MAX_DEFAULT_SHM_BYTES,
  SANDBOX_ROOTLESS_ID,
  sandboxLimits,
  sandboxUserFor,
} from '../../../../src/main/runs/sandbox-policy';

const GiB = 1024 ** 3;

describe('who the sandbox runs as', () => {
  it('is the SSH user itself when that is not root', () => {
    expect(sandboxUserFor({ uid: 1000, gid: 1000 })).toEqual({ uid: 1000, gid: 1000, user: '1000:1000', chown: false });
  });

  it('is the container’s root on a rootless Docker, which is the unprivileged SSH user on the host', () => {
    expect(sandboxUserFor({ uid: 1000, gid: 1000, rootlessDocker: true })).toEqual({
      uid: 0,
      gid: 0,
      user: '0:0',
      chown: false,
    });
  });

  it('is never root: a root SSH user (or one `id` could not name) gets an unprivileged id of its own', () => {
    for (const ids of [
      { uid: 0, gid: 0 },
      { uid: null, gid: null },
      { uid: 1000, gid: 0 },
    ]) {
      const user = sandboxUserFor(ids);
      expect(user.uid).toBe(SANDBOX_ROOTLESS_ID);
      expect(user.gid).toBe(SANDBOX_ROOTLESS_ID);
      expect(user.chown).toBe(true);
    }
  });
});

describe('default memory and /dev/shm', () => {
  it('give a run its GPUs’ share of the host’s RAM, less a margin, and half of that as /dev/shm', () => {
    const limits = sandboxLimits({ memTotalBytes: 1024 * GiB, hostGpuCount: 8, runGpuCount: 1, spec: {} });
    expect(limits.memoryBytes).toBe(Math.floor(128 * GiB * 0.85));
    expect(limits.shmBytes).toBe(MAX_DEFAULT_SHM_BYTES);
    expect(limits.source).toEqual({ memory: 'host', shm: 'host' });
    const small = sandboxLimits({ memTotalBytes: 8 * GiB, hostGpuCount: 0, runGpuCount: 0, spec: {} });
    expect(small.memoryBytes).toBe(Math.floor(8 * GiB * 0.85));
    expect(small.shmBytes).toBe(Math.floor(small.memoryBytes! / 2));
  });

  it('never go below a floor, nor above the host', () => {
    const tiny = sandboxLimits({ memTotalBytes: 16 * GiB, hostGpuCount: 64, runGpuCount: 1, spec: {} });
    expect(tiny.memoryBytes).toBe(2 * GiB);
    const toy = sandboxLimits({ memTotalBytes: GiB, hostGpuCount: 0, runGpuCount: 0, spec: {} });
    expect(toy.memoryBytes).toBe(GiB);
  });

  it('yield to the spec’s own numbers, and set no memory limit when the host’s RAM is unknown', () => {
    const own = sandboxLimits({
      memTotalBytes: 64 * GiB,
      hostGpuCount: 1,
      runGpuCount: 1,
      spec: { memoryBytes: 10 * GiB, shmBytes: GiB },
    });
    expect(own).toEqual({ memoryBytes: 10 * GiB, shmBytes: GiB, source: { memory: 'spec', shm: 'spec' } });
    const unknown = sandboxLimits({ memTotalBytes: null, hostGpuCount: 1, runGpuCount: 1, spec: {} });
    expect(unknown.memoryBytes).toBeUndefined();
    expect(unknown.shmBytes).toBe(MAX_DEFAULT_SHM_BYTES);
  });
});

describe('the run folder on the host', () => {
  it('is created closed to other users, with no world-writable part', () => {
    const script = prepareScript('/srv/runs', '/srv/runs/r-1', []);
    expect(script).toContain('mkdir -m 0700 -- /srv/runs/r-1');
    expect(script).toContain('chmod 0700 -- /srv/runs/r-1');
    expect(script).not.toMatch(/0777|a\+w|o\+w/);
  });

  it('hands workspace/ and home/ to the sandbox’s user, chowning only when the SSH user is root', () => {
    const rooted = handOverScript('/srv/runs/r-1', { uid: 61000, gid: 61000, chown: true });
    expect(rooted).toContain('chown -R -h -- 61000:61000 workspace home');
    expect(rooted).toContain('chmod 0700 workspace home');
    const own = handOverScript('/srv/runs/r-1', { uid: 1000, gid: 1000, chown: false });
    expect(own).not.toContain('chown');
    expect(own).toContain('chmod 0700 workspace home');
  });
});
