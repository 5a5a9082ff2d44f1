// The supervisor's start line picks the copy the run folder holds: the host package (`ptw-host.pyz supervise`), or,
// for a run an older app launched, its single-file ptw-supervisor.py (with or without --secrets-stdin). Run with sh
// and a python3 that only says how it was called.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startSupervisorScript } from '../../../../src/main/runs/host-scripts';

let work: string;
let runDir: string;
let bin: string;

beforeEach(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'ptw-start-'));
  runDir = path.join(work, 'r-1');
  bin = path.join(work, 'bin');
  for (const dir of [path.join(runDir, '.supervisor'), path.join(runDir, 'record'), bin]) {
    mkdirSync(dir, { recursive: true });
  }
  // Says its arguments, then what it read on stdin (the keys line when it has one).
  writeFileSync(
    path.join(bin, 'python3'),
    '#!/bin/sh\nprintf "%s\\n" "$*" > "$PWD/record/argv"\ncat > "$PWD/record/stdin"\n',
  );
  chmodSync(path.join(bin, 'python3'), 0o755);
});

afterEach(() => rmSync(work, { recursive: true, force: true }));

function start(): { argv: string; stdin: string } {
  const script = startSupervisorScript({ runDir, dockerSocket: '/s.sock', containerId: 'c1', resume: true });
  const result = spawnSync('sh', ['-c', script], {
    input: 'KEYS\n',
    encoding: 'utf8',
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
    timeout: 10_000,
  });
  expect(result.stdout).toMatch(/^PID \d+/);
  // The fake exits at once; wait for its files.
  for (let i = 0; i < 200; i++) {
    try {
      const argv = readFileSync(path.join(runDir, 'record', 'argv'), 'utf8').trim();
      return { argv, stdin: readFileSync(path.join(runDir, 'record', 'stdin'), 'utf8') };
    } catch {
      spawnSync('sleep', ['0.02']);
    }
  }
  throw new Error('the fake python3 did not run');
}

const flags = (): string => `--run-dir ${runDir} --docker-socket /s.sock --agent-container c1 --resume`;

it('runs the host package the launcher uploaded, with the keys on stdin', () => {
  writeFileSync(path.join(runDir, '.supervisor', 'ptw-host.pyz'), 'zip');
  writeFileSync(path.join(runDir, '.supervisor', 'ptw-supervisor.py'), '--secrets-stdin');
  const { argv, stdin } = start();
  expect(stdin).toBe('KEYS\n');
  expect(argv).toBe(`.supervisor/ptw-host.pyz supervise ${flags()} --secrets-stdin --ready-fd 3`);
});

it("keeps an older run's own ptw-supervisor.py, with or without --secrets-stdin", () => {
  writeFileSync(path.join(runDir, '.supervisor', 'ptw-supervisor.py'), '# knows --secrets-stdin\n');
  expect(start().argv).toBe(`.supervisor/ptw-supervisor.py ${flags()} --secrets-stdin --ready-fd 3`);
  rmSync(path.join(runDir, 'record', 'argv'));
  writeFileSync(path.join(runDir, '.supervisor', 'ptw-supervisor.py'), '# too old for keys\n');
  const old = start();
  expect(old.argv).toBe(`.supervisor/ptw-supervisor.py ${flags()}`);
  expect(old.stdin).toBe('');
});
