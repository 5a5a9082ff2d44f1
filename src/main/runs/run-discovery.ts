import type Dockerode from 'dockerode';
import { AppError } from '../../shared/errors';
import type { HostProfile } from '../../shared/hosts';
import { isFinalRunStatus, runStatusSchema } from '../../shared/runs/run-status';
import type { HostSession } from '../hosts/host-exec-types';
import { discoveryScript, parseDiscovery, type DiscoveredFolder } from './host-scripts';
import { isRunId } from './run-layout';
import { RunMirror } from './run-mirror';

/**
 * Finding every run on a host (docs/run-folder.md: "the host is the source of truth"): the run folders under the
 * run root plus any folder an agent container's `ptw.run-dir` label names, each with its state and whether its
 * supervisor process lives. Runs this app has no record of get a local mirror; runs whose supervisor died before
 * the run ended are handed back to a new one (`--resume`; its lock makes a double start harmless).
 */

export interface DiscoveryDeps {
  runsDir: string;
  /** Restarts a run's supervisor (with --resume unless `fresh`); rate-limited by the caller. */
  restartSupervisor(input: {
    host: string;
    session: HostSession;
    mirror: RunMirror;
    containerId: string;
    fresh: boolean;
  }): Promise<boolean>;
  now?: () => number;
}

export interface DiscoveryReport {
  host: string;
  /** Absolute run root on the host. */
  runRoot: string;
  /** Every run found there, by id. */
  found: string[];
  /** Runs that had no local record and now have one. */
  mirrored: string[];
  /** Runs whose supervisor was (re)started. */
  restarted: string[];
  /** Agent containers removed because their launch never finished (they hold the agent's key). */
  removedContainers: string[];
  problems: string[];
}

/** A launch that created its container but died before starting the supervisor is adopted after this long. */
export const ABANDONED_LAUNCH_MS = 2 * 60_000;

interface AgentContainer {
  id: string;
  runId: string;
  runDir: string | undefined;
  state: string;
  createdMs: number;
}

async function listAgentContainers(docker: Dockerode): Promise<AgentContainer[]> {
  const list = await docker.listContainers({ all: true, filters: { label: ['ptw.run', 'ptw.role=agent'] } });
  return list.map((c) => ({
    id: c.Id,
    runId: c.Labels['ptw.run'] ?? '',
    runDir: c.Labels['ptw.run-dir'],
    state: c.State,
    createdMs: c.Created * 1000,
  }));
}

export async function discoverHostRuns(
  deps: DiscoveryDeps,
  profile: HostProfile,
  session: HostSession,
): Promise<DiscoveryReport> {
  const now = deps.now?.() ?? Date.now();
  const problems: string[] = [];
  let containers: AgentContainer[] = [];
  try {
    containers = await listAgentContainers(await session.docker());
  } catch (err) {
    problems.push(`Docker on ${profile.name} could not be asked for run containers: ${(err as Error).message}`);
  }
  const extraDirs = [...new Set(containers.map((c) => c.runDir).filter((d): d is string => !!d?.startsWith('/')))];
  const listed = await session.exec(discoveryScript(profile.runRoot, extraDirs), { timeoutMs: 60_000 });
  if (listed.code !== 0) {
    const said = `${listed.stdout}\n${listed.stderr}`.trim();
    throw new AppError(
      /python3: (command )?not found/.test(said) ? 'HOST_REQUIREMENT_MISSING' : 'INTERNAL',
      `Listing the runs on ${profile.name} failed (exit ${listed.code}): ${said.slice(0, 500)}`,
    );
  }
  const listing = parseDiscovery(listed.stdout, profile.name);
  if (listing.error) problems.push(`Reading ${listing.root} on ${profile.name}: ${listing.error}`);
  const report: DiscoveryReport = {
    host: profile.name,
    runRoot: listing.root,
    found: [],
    mirrored: [],
    restarted: [],
    removedContainers: [],
    problems,
  };

  for (const folder of listing.runs) {
    const id = folder.id;
    if (folder.error || !id || id !== folder.name || !isRunId(id)) {
      problems.push(`${folder.dir}: ${folder.error ?? 'run.json does not name this folder as its run'}`);
      continue;
    }
    report.found.push(id);
    const mirror = new RunMirror(deps.runsDir, id);
    const sync = await mirror.readSync().catch(() => undefined);
    if (sync && (sync.host !== profile.name || sync.hostRunDir !== folder.dir)) {
      problems.push(
        `${id} on ${profile.name} (${folder.dir}) has the id of a run recorded from ${sync.host}:${sync.hostRunDir}; skipped`,
      );
      continue;
    }
    if (!sync) {
      const runJsonText = (await session.readFile(`${folder.dir}/run.json`)).toString('utf8');
      await RunMirror.create(deps.runsDir, { id, host: profile.name, hostRunDir: folder.dir, runJsonText });
      report.mirrored.push(id);
    }
    const restarted = await adopt(deps, profile, session, mirror, folder, containers, now);
    if (restarted) report.restarted.push(id);
  }

  // Containers of launches that never wrote run.json: nobody will ever start them, and they hold a key.
  const known = new Set(listing.runs.map((r) => r.dir));
  for (const container of containers) {
    if (container.state !== 'created' || now - container.createdMs < 5 * ABANDONED_LAUNCH_MS) continue;
    if (container.runDir && known.has(container.runDir)) continue;
    try {
      await (await session.docker()).getContainer(container.id).remove({ force: true });
      report.removedContainers.push(container.id);
    } catch (err) {
      problems.push(`Removing the abandoned container ${container.id.slice(0, 12)} failed: ${(err as Error).message}`);
    }
  }
  return report;
}

/** Starts a supervisor for a run that has none and needs one; true when it did. */
async function adopt(
  deps: DiscoveryDeps,
  profile: HostProfile,
  session: HostSession,
  mirror: RunMirror,
  folder: DiscoveredFolder,
  containers: readonly AgentContainer[],
  now: number,
): Promise<boolean> {
  if (folder.supervisorAlive) return false;
  const status = runStatusSchema.safeParse(folder.status);
  const containerId = folder.stateContainerId ?? folder.agentContainerId ?? null;
  if (status.success) {
    if (isFinalRunStatus(status.data) || !containerId) return false;
    return deps.restartSupervisor({ host: profile.name, session, mirror, containerId, fresh: false });
  }
  if (folder.status !== null || folder.stateError) return false;
  // No state.json: the launch wrote run.json and created the container, then died before the supervisor started.
  const container = containers.find((c) => c.runId === folder.id);
  if (!container || container.state !== 'created' || now - container.createdMs < ABANDONED_LAUNCH_MS) return false;
  return deps.restartSupervisor({ host: profile.name, session, mirror, containerId: container.id, fresh: true });
}
