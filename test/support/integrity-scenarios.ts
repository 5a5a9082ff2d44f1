import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect } from 'vitest';
import { runCli } from '../../src/main/cli/ptw-cli';
import { capture } from './cli-capture';

/**
 * The integrity scenario generator (test/generators/integrity_scenarios.py) for tests that need a few PostTrainBench
 * folders: generate some, import them through the CLI, and the references every check of them names.
 */

const generator = path.resolve(__dirname, '..', 'generators', 'integrity_scenarios.py');

/** Writes the named scenarios (with their HF cache, test sets and checkout) under `out`. */
export function generateScenarios(out: string, only: readonly string[]): void {
  const made = spawnSync('python3', [generator, out, ...only.flatMap((n) => ['--only', n])], { encoding: 'utf8' });
  expect(made.status, made.stderr).toBe(0);
}

/** `ptw import ptb` of every generated result folder (PTW_HOME as set): the runs, with the folder each came from. */
export async function importScenarios(out: string): Promise<{ id: string; folder: string }[]> {
  const io = capture();
  expect(await runCli(['import', 'ptb', path.join(out, 'results'), '--json'], io), io.stderr).toBe(0);
  return (JSON.parse(io.stdout) as { imported: { id: string; folder: string }[] }).imported;
}

/** `ptw integrity check`'s options naming the generated references (an imported run is checked here). */
export function scenarioRefs(out: string): string[] {
  return [
    '--references',
    path.join(out, 'hf-cache'),
    '--test-sets',
    path.join(out, 'test-sets'),
    '--ptb-checkout',
    path.join(out, 'ptb-checkout'),
  ];
}

/** run.json of a PostTrainBench run on the `local` host, as the launcher writes it (GSM8K on Qwen3-1.7B-Base). */
export function ptbRunJson(id: string, createdAt: string): string {
  return JSON.stringify({
    schema: 1,
    id,
    createdAt,
    spec: {
      host: 'local',
      task: { kind: 'ptb', benchmark: 'gsm8k', baseModel: 'Qwen/Qwen3-1.7B-Base' },
      agent: { id: 'claude-code' },
      budgetSeconds: 3600,
    },
    supervisor: { budgetSeconds: 3600, agentContainerId: null },
  });
}
