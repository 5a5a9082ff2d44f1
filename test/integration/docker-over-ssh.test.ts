import { existsSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import type { Client, ConnectConfig } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { chooseApiVersion, DockerApiVersionError, negotiateApiVersion } from '../../src/main/docker/docker-api-version';
import { createDockerOverSsh } from '../../src/main/docker/docker-over-ssh';
import { DockerSocketUnreachableError } from '../../src/main/docker/ssh-docker-agent';
import { connectSsh, SshConnectError } from '../support/connect-ssh';
import { findProcessesMentioning, isProcessAlive, listDescendants } from '../support/process-tree';
import { startTestDockerd } from '../support/test-dockerd';
import { describeWithTestHost } from '../support/test-host-availability';
import { type TestHost, startTestHost } from '../support/test-host';
import { buildBusyboxImage } from '../support/test-images';
import { startTestSshd } from '../support/test-sshd';

/** ssh2 keeps its open-channel count private; read it only to cross-check the agent's own count. */
function sshChannelCount(client: Client): number | undefined {
  return (client as unknown as { _chanMgr?: { _count?: number } })._chanMgr?._count;
}

/**
 * connectSsh plus what a caller owes the client afterwards: an 'error' listener (the servers are
 * killed under live connections at the end of tests, and an unhandled error would crash the worker).
 */
async function openSsh(config: ConnectConfig): Promise<Client> {
  const client = await connectSsh(config);
  client.on('error', () => {});
  return client;
}

/** Ends the connection and waits until the socket is closed. */
function closeSsh(client: Client | undefined): Promise<void> {
  if (!client) return Promise.resolve();
  return new Promise((resolve) => {
    client.once('close', () => resolve());
    client.end();
  });
}

function collect(stream: PassThrough): () => string {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks).toString('utf8');
}

function statusCodeOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

describe('chooseApiVersion', () => {
  it('takes the older of the daemon and us, comparing numerically', () => {
    expect(chooseApiVersion({ ApiVersion: '1.41', MinAPIVersion: '1.12' })).toBe('1.41');
    expect(chooseApiVersion({ ApiVersion: '1.51', MinAPIVersion: '1.24' }, { min: '1.41', max: '1.47' })).toBe('1.47');
    expect(chooseApiVersion({ ApiVersion: '1.9' }, { min: '1.5', max: '1.41' })).toBe('1.9');
  });

  it('refuses daemons outside our range, saying which side to upgrade', () => {
    expect(() => chooseApiVersion({ ApiVersion: '1.40' }, { min: '1.41', max: '1.47' })).toThrow(/Upgrade Docker/);
    expect(() => chooseApiVersion({ ApiVersion: '1.52', MinAPIVersion: '1.50' }, { min: '1.41', max: '1.47' })).toThrow(
      DockerApiVersionError,
    );
  });
});

describeWithTestHost('docker over ssh (real sshd + dockerd)', () => {
  let host: TestHost;
  let client: Client;

  beforeAll(async () => {
    host = await startTestHost();
    client = await openSsh(host.connectConfig());
  });

  afterAll(async () => {
    await closeSsh(client);
    await host?.stop();
  });

  it('runs a busybox container and reads its stdout and stderr apart', async () => {
    const remote = createDockerOverSsh(client, { socketPath: host.dockerd.socketPath });
    try {
      const { docker, agent } = remote;
      // dockerd 20.10 speaks 1.41, below our maximum, so that is what we pin.
      expect(await negotiateApiVersion(docker)).toBe('1.41');

      const container = await docker.createContainer({
        Image: host.busyboxImage,
        Cmd: ['sh', '-c', 'echo hello-from-container; echo err >&2'],
        HostConfig: { NetworkMode: 'none' },
      });
      await container.start();
      expect(await container.wait()).toMatchObject({ StatusCode: 0 });

      const logs = await container.logs({ follow: true, stdout: true, stderr: true });
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const readStdout = collect(stdout);
      const readStderr = collect(stderr);
      docker.modem.demuxStream(logs, stdout, stderr);
      await new Promise((resolve, reject) => {
        logs.on('end', resolve);
        logs.on('error', reject);
      });
      expect(readStdout()).toBe('hello-from-container\n');
      expect(readStderr()).toBe('err\n');

      await container.remove();
      const gone = await container.inspect().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(statusCodeOf(gone)).toBe(404);

      // Each request used its own channel and closed it when done.
      await vi.waitFor(() => expect(agent.openChannelCount).toBe(0));
      await vi.waitFor(() => expect(sshChannelCount(client) ?? 0).toBe(0));
    } finally {
      await remote.dispose();
    }
  });

  it('names the socket and what to check when the socket path is wrong', async () => {
    const remote = createDockerOverSsh(client, { socketPath: '/nonexistent/docker.sock' });
    try {
      const err = await remote.docker.ping().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DockerSocketUnreachableError);
      expect(err).toMatchObject({ code: 'DOCKER_UNAVAILABLE', socketPath: '/nonexistent/docker.sock' });
      expect((err as Error).message).toMatch(
        /Cannot reach the Docker socket \/nonexistent\/docker\.sock.*dockerd is running/,
      );
      expect(remote.agent.openChannelCount).toBe(0);
    } finally {
      await remote.dispose();
    }
    // The failed open leaves the SSH connection usable.
    const good = createDockerOverSsh(client, { socketPath: host.dockerd.socketPath });
    try {
      expect((await good.docker.ping()).toString()).toBe('OK');
    } finally {
      await good.dispose();
    }
  });

  it('closes channels after requests and on dispose, even with a stream still open', async () => {
    const remote = createDockerOverSsh(client, { socketPath: host.dockerd.socketPath });
    const { docker, agent } = remote;
    await negotiateApiVersion(docker);

    await Promise.all([docker.ping(), docker.ping(), docker.version(), docker.info(), docker.listContainers()]);
    await vi.waitFor(() => expect(agent.openChannelCount).toBe(0));

    // An event stream holds its channel until someone ends it: dispose must.
    const events = await docker.getEvents();
    expect(agent.openChannelCount).toBe(1);
    const eventsClosed = new Promise<void>((resolve) => events.once('close', () => resolve()));
    await remote.dispose();
    expect(agent.openChannelCount).toBe(0);
    await eventsClosed;
    await vi.waitFor(() => expect(sshChannelCount(client) ?? 0).toBe(0));

    await expect(docker.ping()).rejects.toThrow(/disposed/);
    expect(agent.openChannelCount).toBe(0);
  });

  it('carries a hijacked exec both ways, stdin half-close included', async () => {
    const remote = createDockerOverSsh(client, { socketPath: host.dockerd.socketPath });
    const { docker, agent } = remote;
    await negotiateApiVersion(docker);
    const container = await docker.createContainer({
      Image: host.busyboxImage,
      Cmd: ['sleep', '600'],
      HostConfig: { NetworkMode: 'none' },
    });
    try {
      await container.start();
      const exec = await container.exec({ Cmd: ['cat'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({ hijack: true, stdin: true });
      const stdout = new PassThrough();
      const readStdout = collect(stdout);
      docker.modem.demuxStream(stream, stdout, new PassThrough());
      const ended = new Promise((resolve) => stream.once('end', resolve));
      stream.write('ping over ssh\n');
      // cat only exits once it sees EOF, which must travel as an SSH channel EOF.
      stream.end();
      await ended;
      expect(readStdout()).toBe('ping over ssh\n');
      expect(await exec.inspect()).toMatchObject({ Running: false, ExitCode: 0 });
    } finally {
      await container.remove({ force: true });
      await remote.dispose();
    }
    expect(agent.openChannelCount).toBe(0);
  });

  it('honours the request timeout on an idle stream', async () => {
    const remote = createDockerOverSsh(client, { socketPath: host.dockerd.socketPath, timeout: 300 });
    try {
      const events = await remote.docker.getEvents();
      expect(remote.agent.openChannelCount).toBe(1);
      // No events arrive, so the idle timer fires and docker-modem tears the request down.
      await new Promise<void>((resolve) => events.once('close', () => resolve()));
      await vi.waitFor(() => expect(remote.agent.openChannelCount).toBe(0));
    } finally {
      await remote.dispose();
    }
  });

  it('fails Docker requests clearly once the SSH connection is gone', async () => {
    // A second connection of its own, so closing it leaves the shared one alone.
    const ssh = await openSsh(host.connectConfig());
    const remote = createDockerOverSsh(ssh, { socketPath: host.dockerd.socketPath });
    const events = await remote.docker.getEvents();
    const eventsClosed = new Promise<void>((resolve) => events.once('close', () => resolve()));
    events.on('error', () => {});
    await closeSsh(ssh);
    // The open stream is torn down and its channel forgotten, without waiting on a dead server.
    await eventsClosed;
    expect(remote.agent.openChannelCount).toBe(0);
    await expect(remote.docker.ping()).rejects.toThrow(/SSH connection is closed/);
    await remote.dispose();
  });
});

describeWithTestHost('test host lifecycle', () => {
  it('rotateHostKey() restarts sshd on the same port with a new host key', async () => {
    const sshd = await startTestSshd();
    try {
      const before = sshd.connectConfig();
      const { port, hostPublicKey, pid } = sshd;
      await closeSsh(await openSsh(before));

      await sshd.rotateHostKey();
      expect(sshd.port).toBe(port);
      expect(sshd.pid).not.toBe(pid);
      expect(sshd.hostPublicKey).not.toBe(hostPublicKey);

      const refused = await connectSsh(before).then(closeSsh, (e: unknown) => e);
      expect(refused).toBeInstanceOf(SshConnectError);
      expect((refused as Error).message).toContain(`127.0.0.1:${port}`);
      await closeSsh(await openSsh(sshd.connectConfig()));
    } finally {
      await sshd.stop();
    }
  });

  it('says to enable stream-local forwarding when sshd refuses it', async () => {
    const sshd = await startTestSshd({ extraConfig: ['AllowStreamLocalForwarding no'] });
    try {
      const ssh = await openSsh(sshd.connectConfig());
      const remote = createDockerOverSsh(ssh, { socketPath: '/var/run/docker.sock' });
      try {
        await expect(remote.docker.ping()).rejects.toThrow(/AllowStreamLocalForwarding yes/);
      } finally {
        await remote.dispose();
        await closeSsh(ssh);
      }
      await vi.waitFor(() => expect(sshd.readLog()).toContain('refused streamlocal port forward'));
    } finally {
      await sshd.stop();
    }
  });

  it('stop() ends sshd, dockerd, containerd and running containers by PID and removes their dirs', async () => {
    const [sshd, dockerd] = await Promise.all([startTestSshd(), startTestDockerd()]);
    const daemons = [sshd.pid, dockerd.pid];
    let children: number[] = [];
    try {
      // A live session and a running container give both daemons children to clean up.
      // Left open on purpose: stop() must end the session process too.
      await openSsh(sshd.connectConfig());
      const image = await buildBusyboxImage(dockerd.docker);
      const container = await dockerd.docker.createContainer({
        Image: image,
        Cmd: ['sleep', '600'],
        HostConfig: { NetworkMode: 'none' },
      });
      await container.start();
      children = [
        ...listDescendants(sshd.pid),
        ...listDescendants(dockerd.pid),
        ...findProcessesMentioning(dockerd.name).flatMap((pid) => [pid, ...listDescendants(pid)]),
      ];
      // sshd's session processes, containerd, the shim and `sleep` at least.
      expect(children.length).toBeGreaterThanOrEqual(4);
    } finally {
      await Promise.all([sshd.stop(), dockerd.stop()]);
    }
    // The daemons are our own children and have been reaped, so even signal 0 fails.
    for (const pid of daemons) expect(() => process.kill(pid, 0)).toThrow();
    // Theirs may linger as zombies where PID 1 does not reap; none may still run.
    expect(children.filter(isProcessAlive)).toEqual([]);
    expect(existsSync(sshd.dir)).toBe(false);
    expect(existsSync(dockerd.dir)).toBe(false);
  });
});
