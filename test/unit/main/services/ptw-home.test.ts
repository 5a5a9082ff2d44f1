import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readSettingsFile } from '../../../../src/main/services/ptw-home';

const schema = z.object({ theme: z.enum(['light', 'dark']), size: z.number().int().positive() });
const defaults: z.infer<typeof schema> = { theme: 'light', size: 12 };

describe('readSettingsFile', () => {
  let dir = '';
  let file = '';
  let count = 0;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptw-settings-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  // A fresh file name per test, so no test reads another's file.
  beforeEach(() => {
    file = path.join(dir, `settings-${++count}.json`);
  });

  it('gives a copy of the defaults when there is no file', async () => {
    const read = await readSettingsFile(file, schema.partial(), defaults, 'test settings');
    expect(read).toEqual(defaults);
    expect(read).not.toBe(defaults);
  });

  it('keeps the defaults under what the file sets', async () => {
    await writeFile(file, JSON.stringify({ size: 20 }));
    expect(await readSettingsFile(file, schema.partial(), defaults, 'test settings')).toEqual({
      theme: 'light',
      size: 20,
    });
  });

  it('refuses a file that does not fit, naming the file and what it should hold', async () => {
    await writeFile(file, JSON.stringify({ theme: 'sepia' }));
    await expect(readSettingsFile(file, schema.partial(), defaults, 'test settings')).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining(`${file} does not hold valid test settings`),
    });
  });

  it('refuses a file that is not JSON, naming it', async () => {
    await writeFile(file, '{"size": ');
    await expect(readSettingsFile(file, schema.partial(), defaults, 'test settings')).rejects.toThrow(
      `${file} is not valid JSON`,
    );
  });
});
