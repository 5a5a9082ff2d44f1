import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { z } from 'zod';
import { AppError } from '../../shared/errors';

/** All state lives under PTW_HOME (default ~/.posttrain-workbench) so tests and users can isolate it. */
export function resolvePtwHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.PTW_HOME?.trim();
  return path.resolve(fromEnv ? fromEnv : path.join(os.homedir(), '.posttrain-workbench'));
}

/** Reads a JSON file; `undefined` when it does not exist. A corrupt file is an error naming the file. */
export async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Reads a settings file whose keys are all optional (`schema` is the settings' `.partial()`): `defaults` under what
 * the file sets, all of them when there is no file. A file that does not fit is a CONFLICT naming it and `what` it
 * should hold; nothing is rewritten.
 */
export async function readSettingsFile<T extends object>(
  file: string,
  schema: z.ZodType<Partial<T>>,
  defaults: T,
  what: string,
): Promise<T> {
  const raw = await readJsonFile(file);
  if (raw === undefined) return { ...defaults };
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new AppError(
      'CONFLICT',
      `${file} does not hold valid ${what}: ${parsed.error.message}. Fix or delete the file.`,
    );
  }
  return { ...defaults, ...parsed.data };
}

/**
 * Reads a JSON file that may be missing or damaged (a run record's optional files): `undefined` when it cannot be
 * read, `null` when it is not JSON.
 */
export async function readJsonIfAny(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** Writes through a temp file and rename, so a crash mid-write never leaves a half-written state file. */
export async function writeJsonFileAtomic(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, file);
}
