import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  loadAgentFile,
  loadRehearsalResources,
  locateResourcesDir,
} from '../../../../src/main/catalog/rehearsal-resources';
import { AppError } from '../../../../src/shared/errors';
import { getAgent } from '../../../../src/shared/runs/agent-catalog';
import { evaluationMetricsSchema } from '../../../../src/shared/runs/run-status';
import { REHEARSAL_TASK } from '../../../../src/shared/runs/task-catalog';
import { isProcessAlive, listDescendants, waitForProcessExit } from '../../../support/process-tree';

/**
 * The rehearsal task and agent, run for real with this machine's sh and python3 in a temp workspace laid out as a
 * run's /workspace would be (task files copied in, /ptw/timer replaced by PTW_TIMER).
 */

const resources = locateResourcesDir();
const agentScript = path.join(resources, 'rehearsal/agent/rehearsal-agent.sh');
const taskDir = path.join(resources, REHEARSAL_TASK.resourceDir);

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runFile(file: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: options.cwd, env: options.env, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let base = '';
let workspace = '';
let tmp = '';
let env: NodeJS.ProcessEnv = {};

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'ptw-rehearsal-'));
  const timer = path.join(base, 'timer');
  await writeFile(timer, '#!/bin/sh\necho "Remaining time (hours:minutes):"\necho "0:04"\n');
  await chmod(timer, 0o755);
  env = { ...process.env, PTW_REHEARSAL_SECONDS: '1', PTW_TIMER: timer };
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

let n = 0;
beforeEach(async () => {
  n++;
  workspace = path.join(base, `ws-${n}`);
  tmp = path.join(base, `tmp-${n}`);
  await mkdir(workspace);
  await mkdir(tmp);
  for (const file of REHEARSAL_TASK.taskFiles) await copyFile(path.join(taskDir, file), path.join(workspace, file));
  env = { ...env, TMPDIR: tmp };
});

const runAgent = (extra: NodeJS.ProcessEnv = {}): Promise<Ran> =>
  runFile('/bin/sh', [agentScript, path.join(taskDir, 'prompt.txt')], { cwd: workspace, env: { ...env, ...extra } });

const evaluate = (...args: string[]): Promise<Ran> =>
  runFile('python3', ['evaluate.py', ...args], { cwd: workspace, env });

/** What a safetensors reader sees: header length, header JSON, data size. */
function readSafetensors(bytes: Buffer): { headerLength: number; header: Record<string, unknown>; dataBytes: number } {
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
  return { headerLength, header, dataBytes: bytes.length - 8 - headerLength };
}

describe('rehearsal resources', () => {
  it('finds resources/ and loads the task files and the prompt template', async () => {
    const loaded = await loadRehearsalResources(resources);
    expect(loaded.taskFiles.map((f) => [f.path, f.mode])).toEqual([
      ['evaluate.py', 0o755],
      ['test.jsonl', 0o644],
    ]);
    expect(loaded.promptTemplate).toContain('{model}');
  });

  it('says so when resources/ cannot be found', () => {
    expect(() => locateResourcesDir(tmpdir())).toThrow(AppError);
    expect(() => locateResourcesDir(tmpdir())).toThrow(/resources\/ folder was not found above/);
  });

  it('loads agent files from content or from resources', async () => {
    const script = await loadAgentFile(resources, getAgent('rehearsal').files[0]!);
    expect(script.path).toBe('rehearsal-agent.sh');
    expect(script.mode).toBe(0o755);
    expect(script.content.toString('utf8')).toMatch(/^#!\/bin\/sh\n/);
    const config = await loadAgentFile(resources, getAgent('opencode').files[0]!);
    expect(JSON.parse(config.content.toString('utf8'))).toMatchObject({ permission: 'allow' });
  });

  it('has a 5-item arithmetic test set whose answers are right', async () => {
    const rows = (await readFile(path.join(taskDir, 'test.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { question: string; answer: string });
    expect(rows).toHaveLength(5);
    for (const row of rows) {
      const expression = /^What is ([\d\s+\-*/]+)\?$/.exec(row.question)?.[1] ?? '';
      expect(String(new Function(`return ${expression};`)())).toBe(row.answer);
    }
  });
});

// Each test starts several python3 processes; on a busy machine that takes more than vitest's default 5 s.
describe('the rehearsal agent, then evaluate.py', { timeout: 60_000 }, () => {
  it('curates data, trains, saves a model, checks itself and exits 0', async () => {
    const ran = await runAgent();
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);

    // A terminal to record: colour, a carriage-return progress bar, the timer.
    expect(ran.stdout).toContain('\x1b[');
    expect(ran.stdout).toContain('\r\x1b[36mtraining\x1b[0m [');
    expect(ran.stdout).toContain('Remaining time (hours:minutes):\n0:04');
    expect(ran.stdout).toContain(`read the prompt: `);

    // Claude-style stream-json lines for the structured view (evaluate.py's own JSON summary line aside).
    const events = ran.stdout
      .split('\n')
      .filter((line) => line.startsWith('{"type":'))
      .map((line) => JSON.parse(line) as { type: string; subtype?: string });
    expect(events.map((e) => e.type)).toEqual([
      'system',
      'assistant',
      'assistant',
      'user',
      'assistant',
      'user',
      'assistant',
      'result',
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'result', subtype: 'success', is_error: false });

    // A chat-format dataset that shares nothing with the test set.
    const test = await readFile(path.join(workspace, 'test.jsonl'), 'utf8');
    const train = (await readFile(path.join(workspace, 'data/train.jsonl'), 'utf8')).trim().split('\n');
    expect(train.length).toBeGreaterThanOrEqual(3);
    for (const line of train) {
      const row = JSON.parse(line) as { messages: { role: string; content: string }[] };
      expect(row.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
      expect(test).not.toContain(row.messages[1]?.content ?? '');
    }

    // A real safetensors file with one F32 tensor, named by config.json.
    const config = JSON.parse(await readFile(path.join(workspace, 'final_model/config.json'), 'utf8')) as Record<
      string,
      string
    >;
    expect(config).toMatchObject({ weights_file: 'model.safetensors', score_tensor: 'score' });
    const weights = readSafetensors(await readFile(path.join(workspace, 'final_model/model.safetensors')));
    expect(weights.headerLength % 8).toBe(0);
    expect(weights.header.score).toEqual({ dtype: 'F32', shape: [8], data_offsets: [0, 32] });
    expect(weights.dataBytes).toBe(32);

    // Its own quick check, like an agent would.
    const quick = JSON.parse(await readFile(path.join(tmp, 'quick.json'), 'utf8')) as { accuracy: number };
    expect(quick.accuracy).toBeCloseTo(2 / 3, 10);

    // The clean evaluation, as the supervisor runs it.
    const scored = await evaluate(
      '--model-path',
      'final_model',
      '--limit',
      '-1',
      '--json-output-file',
      'out/metrics.json',
    );
    expect(scored.code).toBe(0);
    expect(scored.stdout).toContain('[3/5] What is 100 - 37? -> 64 wrong (expected 63)');
    const metrics = evaluationMetricsSchema.parse(
      JSON.parse(await readFile(path.join(workspace, 'out/metrics.json'), 'utf8')),
    );
    expect(metrics.accuracy).toBeCloseTo(0.8, 10);
    expect(metrics.stderr).toBeCloseTo(0.2, 10);

    // The harness's retries pass --max-tokens; it is accepted.
    expect((await evaluate('--model-path', 'final_model', '--limit', '2', '--max-tokens', '8192')).stdout).toContain(
      'max tokens: 8192',
    );
  });

  it('fails without a model in fail mode', async () => {
    const ran = await runAgent({ PTW_REHEARSAL_MODE: 'fail' });
    expect(ran.code).toBe(3);
    expect(ran.stderr).toContain('CUDA error: out of memory (simulated by PTW_REHEARSAL_MODE=fail)');
    expect(ran.stdout).toContain('"subtype":"error_during_execution"');
    expect(existsSync(path.join(workspace, 'final_model'))).toBe(false);
  });

  it('finishes without a model in no-model mode, and evaluate.py says there is none', async () => {
    const ran = await runAgent({ PTW_REHEARSAL_MODE: 'no-model' });
    expect(ran.code).toBe(0);
    expect(existsSync(path.join(workspace, 'final_model'))).toBe(false);
    const scored = await evaluate('--model-path', 'final_model', '--json-output-file', 'metrics.json');
    expect(scored.code).toBe(2);
    expect(scored.stderr).toBe('evaluate.py: error: final_model is not a folder: no model was submitted\n');
    expect(existsSync(path.join(workspace, 'metrics.json'))).toBe(false);
  });

  it('keeps going in forever mode until SIGTERM, then stops itself and its children', async () => {
    const child = spawn('/bin/sh', [agentScript], { cwd: workspace, env: { ...env, PTW_REHEARSAL_MODE: 'forever' } });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const started = Date.now();
    while (!out.includes('checkpoint: step 5') && Date.now() - started < 15_000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(out).toContain('training until stopped');
    const children = listDescendants(child.pid ?? 0);
    expect(children.length).toBeGreaterThan(0);
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(out).toContain('received SIGTERM: stopping');
    expect(out).toContain('"result":"stopped by SIGTERM"');
    for (const pid of children) expect(await waitForProcessExit(pid, 5_000)).toBe(true);
    expect(children.some(isProcessAlive)).toBe(false);
  });

  it('in linger mode leaves a scorable final_model, then trains on until SIGTERM', async () => {
    const child = spawn('/bin/sh', [agentScript], { cwd: workspace, env: { ...env, PTW_REHEARSAL_MODE: 'linger' } });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const started = Date.now();
    while (!out.includes('training on until stopped') && Date.now() - started < 20_000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(out).toContain('saved final_model/');
    expect(existsSync(path.join(workspace, 'final_model/config.json'))).toBe(true);
    const children = listDescendants(child.pid ?? 0);
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    for (const pid of children) expect(await waitForProcessExit(pid, 5_000)).toBe(true);
    const scored = await evaluate('--model-path', 'final_model', '--json-output-file', 'metrics.json');
    expect(scored.code).toBe(0);
  });

  it('refuses bad settings with a message', async () => {
    const ran = await runAgent({ PTW_REHEARSAL_SECONDS: '1m' });
    expect(ran.code).toBe(64);
    expect(ran.stderr).toBe("rehearsal-agent: PTW_REHEARSAL_SECONDS must be a whole number of seconds, not '1m'\n");
    const mode = await runAgent({ PTW_REHEARSAL_MODE: 'chaos' });
    expect(mode.code).toBe(64);
    expect(mode.stderr).toContain('must be normal, forever, fail, no-model or linger');
  });
});

describe('evaluate.py on broken models', { timeout: 60_000 }, () => {
  const F32_HEADER = { score: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };

  async function model(weights: Buffer, config: unknown = { weights_file: 'model.safetensors' }): Promise<void> {
    await mkdir(path.join(workspace, 'final_model'), { recursive: true });
    await writeFile(path.join(workspace, 'final_model/config.json'), JSON.stringify(config));
    await writeFile(path.join(workspace, 'final_model/model.safetensors'), weights);
  }

  function safetensors(header: unknown, data: Buffer): Buffer {
    const json = Buffer.from(JSON.stringify(header), 'utf8');
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(json.length));
    return Buffer.concat([length, json, data]);
  }

  function floats(...values: number[]): Buffer {
    const data = Buffer.alloc(values.length * 4);
    values.forEach((v, i) => data.writeFloatLE(v, i * 4));
    return data;
  }

  async function expectError(message: string | RegExp): Promise<void> {
    const ran = await evaluate('--model-path', 'final_model', '--json-output-file', 'metrics.json');
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/^evaluate.py: error: /);
    if (typeof message === 'string') expect(ran.stderr).toContain(message);
    else expect(ran.stderr).toMatch(message);
    expect(existsSync(path.join(workspace, 'metrics.json'))).toBe(false);
  }

  it('scores a hand-made model: each item right when its weight is at least 0.5', async () => {
    await model(safetensors(F32_HEADER, floats(1, 0)));
    const ran = await evaluate('--model-path', 'final_model', '--json-output-file', 'metrics.json');
    expect(ran.code).toBe(0);
    expect(JSON.parse(await readFile(path.join(workspace, 'metrics.json'), 'utf8'))).toEqual({
      accuracy: 0.6,
      stderr: Math.sqrt((0.6 * 0.4) / 4),
    });
  });

  it('explains a header length past the end of the file', async () => {
    const bad = Buffer.alloc(16);
    bad.writeBigUInt64LE(999_999n);
    await model(bad);
    await expectError(
      'the header length says 999999 bytes but the file has 16: not a safetensors file, or a truncated one',
    );
  });

  it('explains a file too short to hold a header length', async () => {
    await model(Buffer.from([1, 2, 3]));
    await expectError('is 3 bytes: too short to be a safetensors file');
  });

  it('explains a header that is not JSON', async () => {
    const text = Buffer.from('{not json', 'utf8');
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(text.length));
    await model(Buffer.concat([length, text]));
    await expectError('the safetensors header is not valid JSON');
  });

  it('explains a missing tensor, a wrong dtype and data that does not fit', async () => {
    await model(safetensors({ other: F32_HEADER.score }, floats(1, 1)));
    await expectError("has no tensor 'score' (tensors: other)");
    await model(safetensors({ score: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, Buffer.alloc(4)));
    await expectError("tensor 'score' is F16, expected F32");
    await model(safetensors(F32_HEADER, floats(1)));
    await expectError("tensor 'score' claims bytes 0..8 for 2 F32 values, but the data section has 4 bytes");
    await model(safetensors(F32_HEADER, floats(Number.NaN, 1)));
    await expectError('holds NaN or infinite values');
  });

  it('explains a broken config.json', async () => {
    await model(safetensors(F32_HEADER, floats(1, 1)), 'just a string');
    await expectError('config.json must hold a JSON object');
    await model(safetensors(F32_HEADER, floats(1, 1)), { weights_file: '../../etc/passwd' });
    await expectError(/weights_file must be a file name inside final_model/);
    await rm(path.join(workspace, 'final_model/config.json'));
    await expectError('final_model/config.json is missing');
  });
});
