import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HOST_PACKAGE_FILE, loadHostPackage } from '../../../../src/main/host-package/host-package';
import { HostPackageUploader, localHostPackage } from '../../../../src/main/host-package/host-package-upload';
import type { ExecOptions, ExecResult } from '../../../../src/main/hosts/host-exec-types';

const resourcesDir = path.resolve('resources');
const work = mkdtempSync(path.join(tmpdir(), 'ptw-host-package-upload-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A "host" that is this machine's sh: what the uploader sends runs for real. */
class LocalShell {
  readonly commands: string[] = [];
  async exec(command: string, options?: ExecOptions): Promise<ExecResult> {
    this.commands.push(command);
    const r = spawnSync('sh', ['-c', command], { input: options?.stdin ?? '', encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }
}

describe('shipping the host package', () => {
  it('uploads the zipapp whole, once per process per host folder, and runs its subcommands there', async () => {
    const pkg = await loadHostPackage(resourcesDir);
    const uploader = new HostPackageUploader(() => resourcesDir);
    const shell = new LocalShell();
    const dir = path.join(work, 'run', '.inspect');
    const file = await uploader.ensure(shell, 'gpu-1', dir);
    expect(file).toBe(path.join(dir, HOST_PACKAGE_FILE));
    expect(Buffer.compare(readFileSync(file), pkg.bytes)).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(await uploader.ensure(shell, 'gpu-1', dir)).toBe(file);
    expect(shell.commands).toHaveLength(1);
    // Another host (or folder) is another upload.
    await uploader.ensure(shell, 'gpu-2', dir);
    expect(shell.commands).toHaveLength(2);
    expect(execFileSync('python3', [file, 'version'], { encoding: 'utf8' }).trim()).toBe(pkg.hash);
    // The dataset inspector runs without site-packages (-S), as the app starts it.
    const ws = path.join(work, 'ws');
    mkdirSync(ws, { recursive: true });
    writeFileSync(path.join(ws, 'rows.jsonl'), '{"a": 1}\n{"a": 2}\n');
    const listed = JSON.parse(
      execFileSync('python3', ['-S', file, 'data', 'list', '--workspace', ws], { encoding: 'utf8' }),
    ) as { datasets: Array<{ path: string; format: string }> };
    expect(listed.datasets.map((d) => [d.path, d.format])).toEqual([['rows.jsonl', 'jsonl']]);
  });

  it('says which file it could not write, and tries again on the next call', async () => {
    const uploader = new HostPackageUploader(() => resourcesDir);
    const blocked = path.join(work, 'blocked');
    writeFileSync(blocked, 'a file where the folder should be');
    const shell = new LocalShell();
    await expect(uploader.ensure(shell, 'gpu-1', path.join(blocked, 'inspect'))).rejects.toThrow(
      /Could not write .*ptw-host\.pyz on the host/,
    );
    await expect(uploader.ensure(shell, 'gpu-1', path.join(blocked, 'inspect'))).rejects.toThrow();
    expect(shell.commands).toHaveLength(2);
  });

  it('writes one local copy per package hash for subcommands run on this machine', async () => {
    const pkg = await loadHostPackage(resourcesDir);
    const dir = path.join(work, 'home', 'host-package');
    const file = await localHostPackage(resourcesDir, dir);
    expect(path.basename(file)).toBe(`ptw-host-${pkg.hash.slice(0, 16)}.pyz`);
    const written = statSync(file).mtimeMs;
    expect(await localHostPackage(resourcesDir, dir)).toBe(file);
    expect(statSync(file).mtimeMs).toBe(written);
    expect(execFileSync('python3', [file, 'version'], { encoding: 'utf8' }).trim()).toBe(pkg.hash);
  });
});
