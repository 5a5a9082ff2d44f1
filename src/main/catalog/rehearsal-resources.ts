import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../shared/errors';
import type { AgentFile } from '../../shared/runs/agent-catalog';
import { REHEARSAL_TASK } from '../../shared/runs/task-catalog';

/**
 * The app's own files under `resources/` that runs need on a host: the rehearsal task (evaluate.py, test.jsonl,
 * the prompt template) and agent files such as the rehearsal agent script. Read here; the launcher uploads them.
 */

/** A file to put on the host, with the mode it needs there. */
export interface ResourceFile {
  /** Relative to the folder it goes to (the task folder, /ptw, the workspace). */
  path: string;
  content: Buffer;
  mode: number;
}

/**
 * Finds `resources/` by walking up from `start` (this file's folder in a source checkout, `dist/main` in a build,
 * `app.asar/dist/main` in a packaged app), so the same lookup works in tests, `ptw` and Electron.
 */
export function locateResourcesDir(start: string = __dirname): string {
  let dir = path.resolve(start);
  for (;;) {
    const candidate = path.join(dir, 'resources');
    if (existsSync(path.join(candidate, REHEARSAL_TASK.resourceDir, REHEARSAL_TASK.evaluationEntry))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new AppError(
        'NOT_FOUND',
        `The app's resources/ folder was not found above ${start}; the installation is incomplete.`,
      );
    }
    dir = parent;
  }
}

async function readResource(resourcesDir: string, rel: string, mode?: number): Promise<ResourceFile> {
  const full = path.join(resourcesDir, rel);
  try {
    const [content, info] = await Promise.all([readFile(full), stat(full)]);
    return { path: path.basename(rel), content, mode: mode ?? (info.mode & 0o111 ? 0o755 : 0o644) };
  } catch (err) {
    throw new AppError('NOT_FOUND', `The app's resource ${full} cannot be read: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

export interface RehearsalResources {
  /** Files of the task folder (copied to task/ and the workspace). */
  taskFiles: ResourceFile[];
  /** The prompt template, to render into /ptw/prompt.txt. */
  promptTemplate: string;
}

export async function loadRehearsalResources(resourcesDir: string): Promise<RehearsalResources> {
  const taskDir = REHEARSAL_TASK.resourceDir;
  const taskFiles = await Promise.all(
    REHEARSAL_TASK.taskFiles.map((f) => readResource(resourcesDir, `${taskDir}/${f}`)),
  );
  const prompt = await readResource(resourcesDir, `${taskDir}/${REHEARSAL_TASK.promptTemplate}`);
  return { taskFiles, promptTemplate: prompt.content.toString('utf8') };
}

/** The bytes of an agent's file (literal content or a resource), named by its place in /ptw or the workspace. */
export async function loadAgentFile(resourcesDir: string, file: AgentFile): Promise<ResourceFile> {
  if (file.content !== undefined)
    return { path: file.path, content: Buffer.from(file.content, 'utf8'), mode: file.mode };
  if (file.resource === undefined)
    throw new AppError('INTERNAL', `Agent file ${file.path} has neither content nor a resource`);
  const loaded = await readResource(resourcesDir, file.resource, file.mode);
  return { ...loaded, path: file.path };
}
