import type { Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import { AppError } from '../../shared/errors';
import type { HostSession } from '../hosts/host-exec-types';
import { requireRunHost } from '../runs/run-host';
import { RunMirror } from '../runs/run-mirror';
import type { RunService } from '../runs/run-service';

/**
 * The peek shell (issue 5): a Docker exec with a TTY in the agent's container of a running run, opened only once
 * the run service has recorded it on the host as an intervention.
 */

export interface PeekShell {
  readonly exec: Dockerode.Exec;
  /** The shell's TTY: output read, input written. */
  readonly duplex: Duplex;
  readonly containerId: string;
  /** The control request's name the supervisor recorded. */
  readonly request: string;
}

/** Checks that the run's sandbox is running, records the peek and starts `bash -i` (`sh -i` without bash) in it. */
export async function startPeekShell(
  deps: {
    runsDir: string;
    session(host: string): Promise<HostSession>;
    runs: Pick<RunService, 'sync' | 'recordPeekShell'>;
  },
  id: string,
): Promise<PeekShell> {
  const mirror = new RunMirror(deps.runsDir, id);
  await deps.runs.sync(id).catch(() => undefined);
  const sync = await mirror.readSync();
  if (!sync) throw new AppError('NOT_FOUND', `No run ${id} here (ptw run ls lists runs on your hosts).`);
  const target = requireRunHost(id, sync);
  const state = await mirror.readState();
  const runJson = await mirror.readRunJson();
  if (!state || state.status !== 'running' || state.stoppedAt !== null) {
    throw new AppError(
      'CONFLICT',
      `Run ${id} is ${state?.status ?? 'not started'}: the peek shell needs the agent's sandbox running.`,
    );
  }
  const containerId = state.agentContainerId ?? runJson?.supervisor.agentContainerId ?? null;
  if (!containerId) throw new AppError('CONFLICT', `Run ${id} has no agent container recorded.`);
  const session = await deps.session(sync.host);
  const docker = await session.docker();
  const container = docker.getContainer(containerId);
  const inspected = await container.inspect().catch((err: unknown) => {
    throw new AppError(
      'CONFLICT',
      `The agent container ${containerId.slice(0, 12)} of run ${id} is gone: ${
        err instanceof Error ? err.message : String(err)
      }`,
    );
  });
  if (!inspected.State.Running) {
    throw new AppError('CONFLICT', `The agent container of run ${id} is not running (${inspected.State.Status}).`);
  }
  const request = await deps.runs.recordPeekShell(target);
  const shell = 'if command -v bash >/dev/null 2>&1; then exec bash -i; else exec sh -i; fi';
  const exec = await container.exec({
    Cmd: ['/bin/sh', '-c', shell],
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: true,
    Env: ['TERM=xterm-256color'],
  });
  const duplex = (await exec.start({ hijack: true, stdin: true, Tty: true })) as Duplex;
  return { exec, duplex, containerId, request };
}
