import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

interface ProcInfo {
  pid: number;
  ppid: number;
  state: string;
}

function readStat(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may itself contain spaces or ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, state: rest[0] ?? '?', ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/**
 * True while `pid` exists and is not a zombie. A zombie counts as gone: only its parent can reap
 * it, and some sandboxes' PID 1 never reaps the daemons' orphans.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const info = readStat(pid);
  return info !== undefined && info.state !== 'Z';
}

/** Live descendants of `pid` by generation: [children, grandchildren, ...], read from /proc. */
export function listDescendantLevels(pid: number): number[][] {
  const infos = allPids()
    .map(readStat)
    .filter((info): info is ProcInfo => info !== undefined && info.state !== 'Z');
  const byParent = new Map<number, number[]>();
  for (const info of infos) {
    const siblings = byParent.get(info.ppid) ?? [];
    siblings.push(info.pid);
    byParent.set(info.ppid, siblings);
  }
  const levels: number[][] = [];
  let current = [pid];
  for (;;) {
    const next = current.flatMap((parent) => byParent.get(parent) ?? []);
    if (next.length === 0) return levels;
    levels.push(next);
    current = next;
  }
}

/** Every live descendant of `pid` (children, grandchildren, ...). */
export function listDescendants(pid: number): number[] {
  return listDescendantLevels(pid).flat();
}

/**
 * Live processes whose command line contains `needle` (e.g. a temp dir name): finds what a
 * daemon spawned and then orphaned, such as containerd-shim, which re-parents itself to PID 1.
 */
export function findProcessesMentioning(needle: string): number[] {
  const found: number[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.includes(needle) && isProcessAlive(pid)) found.push(pid);
  }
  return found;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves true once `pid` is gone, false if it is still alive after `timeoutMs`. */
export async function waitForProcessExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/** Resolves once a child we spawned has exited and been reaped (so `process.kill(pid, 0)` throws). */
export function waitForChildExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function terminateProcess(pid: number, graceMs = 5_000): Promise<void> {
  if (!isProcessAlive(pid)) return;
  signal(pid, 'SIGTERM');
  if (await waitForProcessExit(pid, graceMs)) return;
  signal(pid, 'SIGKILL');
  if (!(await waitForProcessExit(pid, 5_000))) throw new Error(`process ${pid} survived SIGKILL`);
}

/** Same as {@link terminateProcess} for our own child, also waiting until Node has reaped it. */
export async function terminateChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  if (await waitForChildExit(child, graceMs)) return;
  child.kill('SIGKILL');
  if (!(await waitForChildExit(child, 5_000))) throw new Error(`process ${child.pid} survived SIGKILL`);
}

/**
 * Ends `pid`'s descendants deepest first, each generation while its parents still live to reap
 * it (an orphan would wait on PID 1, which some sandboxes reap late), then `pid` itself.
 */
export async function terminateDescendants(pid: number, graceMs = 3_000): Promise<void> {
  for (const level of listDescendantLevels(pid).reverse()) {
    await Promise.all(level.map((descendant) => terminateProcess(descendant, graceMs)));
  }
}

/** {@link terminateDescendants}, then the process itself. */
export async function terminateTree(pid: number, graceMs = 3_000): Promise<void> {
  await terminateDescendants(pid, graceMs);
  await terminateProcess(pid, graceMs);
}
