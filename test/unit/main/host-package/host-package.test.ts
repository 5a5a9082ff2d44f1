import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildHostPackage,
  hostPackageCommand,
  loadHostPackage,
  HOST_PACKAGE_FILE,
} from '../../../../src/main/host-package/host-package';

const resourcesDir = path.resolve('resources');
const work = mkdtempSync(path.join(tmpdir(), 'ptw-host-package-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the host package as one zipapp', () => {
  it('runs with python3 and reports the hash it was built with', async () => {
    const pkg = await loadHostPackage(resourcesDir);
    const file = path.join(work, HOST_PACKAGE_FILE);
    writeFileSync(file, pkg.bytes, { mode: 0o755 });
    expect(execFileSync('python3', [file, 'version'], { encoding: 'utf8' }).trim()).toBe(pkg.hash);
    // The shebang line makes it executable on its own.
    expect(execFileSync(file, ['version'], { encoding: 'utf8' }).trim()).toBe(pkg.hash);
    const help = execFileSync('python3', [file, '--help'], { encoding: 'utf8' });
    expect(help).toContain('subcommands:');
  });

  it('refuses an unknown subcommand with usage and exit 2', async () => {
    const file = path.join(work, 'unknown.pyz');
    writeFileSync(file, (await loadHostPackage(resourcesDir)).bytes);
    const r = spawnSync('python3', [file, 'no-such-thing'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown subcommand 'no-such-thing'");
  });

  it('is deterministic: the same sources give the same bytes, other sources another hash', async () => {
    const a = await buildHostPackage(path.join(resourcesDir, 'host', 'ptw_host'));
    const b = await buildHostPackage(path.join(resourcesDir, 'host', 'ptw_host'));
    expect(Buffer.compare(a.bytes, b.bytes)).toBe(0);
    const other = mkdtempSync(path.join(work, 'pkg-'));
    writeFileSync(path.join(other, '__main__.py'), 'print("x")\n');
    expect((await buildHostPackage(other)).hash).not.toBe(a.hash);
  });

  it('says what is missing when the folder is not a package', async () => {
    const empty = mkdtempSync(path.join(work, 'empty-'));
    await expect(buildHostPackage(empty)).rejects.toThrow(/no __main__\.py/);
    await expect(buildHostPackage(path.join(work, 'absent'))).rejects.toThrow(/host package is missing/);
  });

  it('quotes every argument of a command line', () => {
    expect(hostPackageCommand('/r/a b/ptw-host.pyz', 'data', ['page', "it's"])).toBe(
      `python3 '/r/a b/ptw-host.pyz' data page 'it'\\''s'`,
    );
  });
});
