// The checkpoint inspector (the host package's `inspect` subcommand, resources/host/ptw_host/checkpoints/) run directly, with each engine (`--engine python`, `--engine numpy`)
// against one float64 reference computed here: tensors split into many small units of work, so one tensor has
// identical and changed ranges (the ‖A‖ of the identical ones is summed in a second pass), with one process and with
// several; every dtype the diff decodes; NaN and infinity; what `--engine auto` picks.
//
// Interpreters, found the same way every run: the first python3 on the test host's SSH session PATH (run-test-host.ts;
// Debian's /usr/bin/python3, with apt's numpy 1.x on CI), and the python3 on this process's PATH when that is another
// interpreter (here pyenv's, with numpy 2.x: a login shell on the test host can get it too, through ~/.bashrc). numpy
// missing from the first: its numpy cases fail under CI=true (CI installs python3-numpy) and are skipped, with the
// reason, elsewhere; missing from the second: skipped with the reason.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, type TestContext } from 'vitest';
import {
  fromBf16Bits,
  fromF16Bits,
  referenceStats,
  representable,
  rng,
  toBf16Bits,
  toF16Bits,
  writeCheckpoint,
  type TensorSpec,
} from '../support/safetensors-writer';
import { hostPackageArgv, hostPackageEnv } from '../support/host-package-cli';

/** The test host's SSH session PATH (run-test-host.ts, without the fake nvidia-smi). */
const HOST_PATH = '/usr/local/bin:/usr/bin:/bin';
const ENGINES = ['python', 'numpy'] as const;
type Engine = (typeof ENGINES)[number];

interface Interpreter {
  /** sys.executable: run as it is, so a pyenv shim or PATH cannot swap it. */
  executable: string;
  /** The host's python3 (CI must have numpy there), or this process's other python3. */
  role: 'host' | 'local';
  numpy: string | null;
  /** Why numpy cannot be imported. */
  why: string;
}

function probe(command: string, role: Interpreter['role'], env: NodeJS.ProcessEnv): Interpreter | undefined {
  const script = [
    'import sys',
    'print(sys.executable)',
    'try:',
    '    import numpy',
    '    print(numpy.__version__)',
    'except Exception as err:',
    '    print("!" + repr(err))',
  ].join('\n');
  const result = spawnSync(command, ['-c', script], { encoding: 'utf8', env });
  if (result.status !== 0) return undefined;
  const [executable = '', numpy = ''] = result.stdout.trim().split('\n');
  const ok = !numpy.startsWith('!');
  return { executable, role, numpy: ok ? numpy : null, why: ok ? '' : numpy.slice(1) };
}

const hostPython = HOST_PATH.split(':')
  .map((dir) => path.join(dir, 'python3'))
  .find((file) => existsSync(file));
const interpreters: Interpreter[] = [];
for (const found of [
  hostPython ? probe(hostPython, 'host', { ...process.env, PATH: HOST_PATH }) : undefined,
  probe('python3', 'local', process.env),
]) {
  if (found && !interpreters.some((i) => i.executable === found.executable)) interpreters.push(found);
}

interface Line {
  type: string;
  name?: string;
  a2?: number | null;
  b2?: number | null;
  d2?: number | null;
  maxAbs?: number | null;
  same?: boolean;
  nonFinite?: boolean;
  changedElements?: number;
  problem?: string;
  message?: string;
  engine?: string;
  numpyVersion?: string;
  engineNote?: string;
}

/** numpy cases need numpy: for the host's python3 a failure on CI (which installs it), else a skip with the reason. */
function requireEngine(py: Interpreter, engine: Engine, ctx: TestContext): void {
  if (engine === 'python' || py.numpy) return;
  const why = `${py.executable} cannot import numpy (${py.why})`;
  if (process.env.CI === 'true' && py.role === 'host') {
    throw new Error(`${why}: CI installs python3-numpy (scripts/test.sh)`);
  }
  ctx.skip(`${why}; install numpy for it (apt install python3-numpy) to run the numpy engine's cases`);
}

function run(
  py: Interpreter,
  args: string[],
  pythonArgs: string[] = [],
): { status: number | null; lines: Line[]; stderr: string } {
  const result = spawnSync(py.executable, [...pythonArgs, ...hostPackageArgv('inspect', args)], {
    encoding: 'utf8',
    env: hostPackageEnv(),
  });
  const lines = result.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);
  return { status: result.status, lines, stderr: result.stderr };
}

function diff(py: Interpreter, a: string, b: string, engine: Engine, extra: string[]): Line[] {
  const result = run(py, ['diff', a, b, '--engine', engine, ...extra]);
  expect(result.status, result.stderr + JSON.stringify(result.lines.at(-1))).toBe(0);
  const start = result.lines[0]!;
  expect(start.type).toBe('start');
  expect(start.engine).toBe(engine);
  if (engine === 'numpy') expect(start.numpyVersion).toBe(py.numpy);
  else expect(start.numpyVersion).toBeUndefined();
  expect(result.lines.at(-1)!.type).toBe('done');
  return result.lines;
}

// --- tensors of every dtype the diff decodes, written byte by byte and decoded here by the formats' definitions ---

interface RawTensor {
  name: string;
  dtype: string;
  values: Float64Array;
  bytes: Buffer;
  /** max |A−B| where the float64 values are not exact (64-bit integers past 2⁵³). */
  exactMaxAbs?: number;
}

interface DtypeCodec {
  width: number;
  /** A random stored value: a number, a bigint for 64-bit integers, a code for float8. */
  random(r: () => number): number | bigint;
  write(buf: Buffer, i: number, v: number | bigint): void;
  value(v: number | bigint): number;
}

const int = (lo: number, hi: number) => (r: () => number) => Math.floor(lo + r() * (hi - lo));

function e4m3(code: number): number {
  const sign = code & 0x80 ? -1 : 1;
  const exp = (code >> 3) & 0xf;
  const man = code & 0x7;
  return exp === 0 ? sign * (man / 8) * 2 ** -6 : sign * (1 + man / 8) * 2 ** (exp - 7);
}

/** A float8 code that is a finite number (e4m3fn: S.1111.111 is NaN; e5m2: exponent 31 is Inf/NaN). */
const f8code = (finite: (c: number) => boolean) => (r: () => number) => {
  for (;;) {
    const c = Math.floor(r() * 256);
    if (finite(c)) return c;
  }
};

const CODECS: Record<string, DtypeCodec> = {
  F64: {
    width: 8,
    random: (r) => (r() - 0.5) * 3,
    write: (b, i, v) => b.writeDoubleLE(Number(v), i * 8),
    value: Number,
  },
  I8: { width: 1, random: int(-120, 120), write: (b, i, v) => b.writeInt8(Number(v), i), value: Number },
  U8: { width: 1, random: int(0, 250), write: (b, i, v) => b.writeUInt8(Number(v), i), value: Number },
  I16: { width: 2, random: int(-30000, 30000), write: (b, i, v) => b.writeInt16LE(Number(v), i * 2), value: Number },
  U16: { width: 2, random: int(0, 65000), write: (b, i, v) => b.writeUInt16LE(Number(v), i * 2), value: Number },
  I32: { width: 4, random: int(-2e9, 2e9), write: (b, i, v) => b.writeInt32LE(Number(v), i * 4), value: Number },
  U32: { width: 4, random: int(0, 4e9), write: (b, i, v) => b.writeUInt32LE(Number(v), i * 4), value: Number },
  // Past 2⁵³: the sums see the values rounded to float64, max |A−B| is exact.
  I64: {
    width: 8,
    random: (r) => (1n << 60n) * (r() < 0.5 ? -1n : 1n) + BigInt(Math.floor(r() * 1e9)),
    write: (b, i, v) => b.writeBigInt64LE(BigInt(v), i * 8),
    value: Number,
  },
  U64: {
    width: 8,
    random: (r) => (1n << 63n) + BigInt(Math.floor(r() * 1e12)),
    write: (b, i, v) => b.writeBigUInt64LE(BigInt(v), i * 8),
    value: Number,
  },
  // Any byte but 0 is true (as Python's struct reads it): some trues are written as 2.
  BOOL: {
    width: 1,
    random: (r) => (r() < 0.5 ? 0 : 1),
    write: (b, i, v) => b.writeUInt8(Number(v) && (i % 3 === 0 ? 2 : 1), i),
    value: Number,
  },
  F8_E4M3: {
    width: 1,
    random: f8code((c) => (c & 0x7f) !== 0x7f),
    write: (b, i, v) => b.writeUInt8(Number(v), i),
    value: (c) => e4m3(Number(c)),
  },
  F8_E5M2: {
    width: 1,
    random: f8code((c) => ((c >> 2) & 0x1f) !== 0x1f),
    write: (b, i, v) => b.writeUInt8(Number(v), i),
    value: (c) => fromF16Bits(Number(c) << 8),
  },
  // The dtypes safetensors-writer.ts encodes, here too so every dtype goes through one table.
  F32: {
    width: 4,
    random: (r) => Math.fround((r() - 0.5) * 4),
    write: (b, i, v) => b.writeFloatLE(Number(v), i * 4),
    value: Number,
  },
  F16: {
    width: 2,
    random: (r) => toF16Bits((r() < 0.5 ? -1 : 1) * (0.01 + r() * 4)),
    write: (b, i, v) => b.writeUInt16LE(Number(v), i * 2),
    value: (v) => fromF16Bits(Number(v)),
  },
  BF16: {
    width: 2,
    random: (r) => toBf16Bits((r() - 0.5) * 4),
    write: (b, i, v) => b.writeUInt16LE(Number(v), i * 2),
    value: (v) => fromBf16Bits(Number(v)),
  },
};

const N = 500;
/** Elements B changes: far apart, so most 64-byte units of work are identical. */
const CHANGED = [7, 420];

function dtypePair(dtype: string, seed: number): [RawTensor, RawTensor] {
  const codec = CODECS[dtype]!;
  const random = rng(seed);
  const stored = Array.from({ length: N }, () => codec.random(random));
  const changed = stored.slice();
  for (const i of CHANGED) {
    let v = codec.random(random);
    while (codec.value(v) === codec.value(stored[i]!)) v = codec.random(random);
    changed[i] = v;
  }
  const tensor = (values: (number | bigint)[]): RawTensor => {
    const bytes = Buffer.alloc(N * codec.width);
    values.forEach((v, i) => codec.write(bytes, i, v));
    return {
      name: `model.layers.0.${dtype.toLowerCase()}.weight`,
      dtype,
      values: Float64Array.from(values, (v) => codec.value(v)),
      bytes,
    };
  };
  const a = tensor(stored);
  const b = tensor(changed);
  if (typeof stored[0] === 'bigint') {
    a.exactMaxAbs = Math.max(
      ...CHANGED.map((i) => {
        const d = (stored[i] as bigint) - (changed[i] as bigint);
        return Number(d < 0n ? -d : d);
      }),
    );
  }
  return [a, b];
}

/** A checkpoint folder with raw tensors (1-D, shape [N]) in one safetensors file. */
function writeRaw(dir: string, tensors: readonly RawTensor[]): void {
  mkdirSync(dir, { recursive: true });
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: [t.values.length], data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path.join(dir, 'config.json'), '{}');
  writeFileSync(
    path.join(dir, 'model.safetensors'),
    Buffer.concat([length, Buffer.from(json), ...tensors.map((t) => t.bytes)]),
  );
}

const SMALL_UNITS = ['--task-bytes', '64', '--chunk-elements', '8'];

it('finds a python3 to run the helper with', (ctx) => {
  if (interpreters.length > 0) {
    expect(interpreters.every((py) => path.isAbsolute(py.executable))).toBe(true);
    return;
  }
  const why = `no python3 on ${HOST_PATH} or this process's PATH`;
  if (process.env.CI === 'true') throw new Error(why);
  ctx.skip(why);
});

describe.each(interpreters)('inspect diff with $executable (numpy $numpy)', (py) => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'ptw-inspect-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const cases = ENGINES.flatMap((engine) => ['1', '3'].map((jobs) => [engine, jobs] as const));

  it.for(cases)(
    '%s engine, jobs %s: sums identical and changed ranges of one tensor exactly',
    ([engine, jobs], ctx) => {
      requireEngine(py, engine, ctx);
      const random = rng(11);
      const tensors = (['BF16', 'F16', 'F32'] as const).map((dtype): TensorSpec => ({
        name: `model.layers.0.${dtype.toLowerCase()}.weight`,
        dtype,
        shape: [10, 50],
        values: representable(
          dtype,
          Array.from({ length: 500 }, () => (random() < 0.5 ? -1 : 1) * (0.01 + random())),
        ),
      }));
      // Two elements changed, far apart: most 64-byte ranges are identical.
      const changed = tensors.map((t) => {
        const values = new Float64Array(t.values);
        values[7] = values[7]! + 0.5;
        values[420] = values[420]! - 0.25;
        return { ...t, values: representable(t.dtype, values) };
      });
      const [a, b] = [path.join(work, `a-${engine}-${jobs}`), path.join(work, `b-${engine}-${jobs}`)];
      writeCheckpoint(a, tensors);
      writeCheckpoint(b, changed);
      const lines = diff(py, a, b, engine, ['--jobs', jobs, ...SMALL_UNITS]);
      for (const t of tensors) {
        const line = lines.find((l) => l.type === 'tensor' && l.name === t.name)!;
        const ref = referenceStats(t.values, changed.find((c) => c.name === t.name)!.values);
        expect(line.same).toBe(false);
        expect(Math.sqrt(line.a2!) / ref.l2A, `${t.name} ‖A‖`).toBeCloseTo(1, 12);
        expect(Math.sqrt(line.d2!) / ref.l2Delta, `${t.name} ‖Δ‖`).toBeCloseTo(1, 12);
        expect(line.maxAbs!, `${t.name} max`).toBeCloseTo(ref.maxAbs, 12);
        // The share a full-fine-tune flag reports is of the elements that changed: here 2 of 500.
        expect(line.changedElements, `${t.name} changed elements`).toBe(2);
      }
    },
  );

  it.for(cases)('%s engine, jobs %s: every dtype the diff decodes matches the reference', ([engine, jobs], ctx) => {
    requireEngine(py, engine, ctx);
    const pairs = Object.keys(CODECS).map((dtype, i) => dtypePair(dtype, 100 + i));
    // One tensor identical in both: never summed.
    const same = dtypePair('BF16', 99)[0];
    same.name = 'model.layers.1.same.weight';
    const [a, b] = [path.join(work, `dt-a-${engine}-${jobs}`), path.join(work, `dt-b-${engine}-${jobs}`)];
    writeRaw(a, [...pairs.map((p) => p[0]), same]);
    writeRaw(b, [...pairs.map((p) => p[1]), same]);
    const lines = diff(py, a, b, engine, ['--jobs', jobs, ...SMALL_UNITS]);
    expect(lines.filter((l) => l.type === 'tensor')).toHaveLength(pairs.length + 1);
    expect(lines.find((l) => l.name === same.name)).toMatchObject({
      same: true,
      a2: null,
      d2: 0,
      maxAbs: 0,
      changedElements: 0,
    });
    for (const [ta, tb] of pairs) {
      const line = lines.find((l) => l.type === 'tensor' && l.name === ta.name)!;
      const ref = referenceStats(ta.values, tb.values);
      const refB = referenceStats(tb.values, ta.values);
      expect(line.same, ta.dtype).toBe(false);
      expect(line.nonFinite, ta.dtype).toBeUndefined();
      expect(Math.sqrt(line.a2!) / ref.l2A, `${ta.dtype} ‖A‖`).toBeCloseTo(1, 12);
      expect(Math.sqrt(line.b2!) / refB.l2A, `${ta.dtype} ‖B‖`).toBeCloseTo(1, 12);
      expect(Math.sqrt(line.d2!) / ref.l2Delta, `${ta.dtype} ‖Δ‖`).toBeCloseTo(1, 12);
      expect(line.maxAbs! / (ta.exactMaxAbs ?? ref.maxAbs), `${ta.dtype} max`).toBeCloseTo(1, 12);
    }
  });

  it.for(ENGINES)(
    '%s engine: a dtype it cannot read is a problem on that tensor, not a dtype change',
    (engine, ctx) => {
      requireEngine(py, engine, ctx);
      const [okA, okB] = dtypePair('F32', 5);
      const odd = (name: string, dtype: string): RawTensor => ({
        name,
        dtype,
        values: new Float64Array(8),
        bytes: Buffer.alloc(8),
      });
      const [a, b] = [path.join(work, `odd-a-${engine}`), path.join(work, `odd-b-${engine}`)];
      writeRaw(a, [
        okA,
        odd('model.x9.weight', 'X9'),
        odd('model.e8m0.weight', 'F8_E8M0'),
        odd('model.mixed.weight', 'X9'),
      ]);
      writeRaw(b, [
        okB,
        odd('model.x9.weight', 'X9'),
        odd('model.e8m0.weight', 'F8_E8M0'),
        odd('model.mixed.weight', 'U8'),
      ]);
      const lines = diff(py, a, b, engine, ['--jobs', '1']);
      expect(lines.find((l) => l.name === 'model.x9.weight')).toMatchObject({
        problem: 'dtype "X9" is not one the safetensors format defines; not compared',
      });
      expect(lines.find((l) => l.name === 'model.mixed.weight')).toMatchObject({
        problem: 'dtype "X9" is not one the safetensors format defines; not compared',
      });
      expect(lines.find((l) => l.name === 'model.e8m0.weight')).toMatchObject({
        problem: 'dtype F8_E8M0 is not supported by the diff; not compared',
      });
      expect(lines.find((l) => l.name === okA.name)).toMatchObject({ same: false, changedElements: CHANGED.length });
    },
  );

  it.for(ENGINES)('%s engine: NaN and infinity make the sums null and set nonFinite', (engine, ctx) => {
    requireEngine(py, engine, ctx);
    const [nanA, nanB] = dtypePair('F32', 7);
    nanA.name = 'model.nan.weight';
    nanB.name = nanA.name;
    // First in the unit of work of the change at 7, the largest: its max |A−B| must step over the NaN (Python's
    // max() keeps a NaN it starts with).
    nanB.bytes.writeFloatLE(NaN, 0);
    nanB.values[7] = Math.fround(nanA.values[7]! + 5);
    nanB.bytes.writeFloatLE(nanB.values[7], 7 * 4);
    const [infA, infB] = dtypePair('F32', 8);
    infA.name = 'model.inf.weight';
    infB.name = infA.name;
    infB.bytes.writeFloatLE(Infinity, 200 * 4);
    const [a, b] = [path.join(work, `nf-a-${engine}`), path.join(work, `nf-b-${engine}`)];
    writeRaw(a, [nanA, infA]);
    writeRaw(b, [nanB, infB]);
    const lines = diff(py, a, b, engine, ['--jobs', '2', ...SMALL_UNITS]);
    const nan = lines.find((l) => l.name === nanA.name)!;
    expect(nan).toMatchObject({ same: false, nonFinite: true, b2: null, d2: null });
    expect(Math.sqrt(nan.a2!) / referenceStats(nanA.values, nanA.values).l2A).toBeCloseTo(1, 12);
    // max |A−B| leaves the NaN out: the change at 7.
    expect(nan.maxAbs!).toBeCloseTo(referenceStats(nanA.values, nanB.values).maxAbs, 12);
    expect(lines.find((l) => l.name === infA.name)).toMatchObject({
      same: false,
      nonFinite: true,
      b2: null,
      d2: null,
      maxAbs: null,
    });
  });

  it('auto picks numpy where python3 can import it, else pure Python and says why; --engine numpy refuses', (ctx) => {
    const a = path.join(work, 'auto-a');
    const b = path.join(work, 'auto-b');
    const [ta, tb] = dtypePair('BF16', 3);
    writeRaw(a, [ta]);
    writeRaw(b, [tb]);
    const auto = run(py, ['diff', a, b]);
    expect(auto.status, auto.stderr).toBe(0);
    expect(auto.lines[0]).toMatchObject({ type: 'start', engine: py.numpy ? 'numpy' : 'python' });
    // -S: without site-packages, where numpy lives.
    const bare = run(py, ['diff', a, b], ['-S']);
    expect(bare.status, bare.stderr).toBe(0);
    if (bare.lines[0]!.engine === 'numpy') ctx.skip(`${py.executable} -S still imports numpy`);
    expect(bare.lines[0]).toMatchObject({ engine: 'python' });
    expect(bare.lines[0]!.engineNote).toContain(`numpy cannot be imported by ${py.executable}`);
    expect(bare.lines.at(-1)!.type).toBe('done');
    const refused = run(py, ['diff', a, b, '--engine', 'numpy'], ['-S']);
    expect(refused.status).toBe(2);
    expect(refused.lines).toEqual([
      { type: 'error', message: expect.stringContaining('--engine numpy: numpy cannot be imported') as unknown },
    ]);
  });

  it('reports a checkpoint it cannot read as an error line naming the file', () => {
    const result = run(py, ['diff', path.join(work, 'nope'), path.join(work, 'nope2')]);
    expect(result.status).toBe(1);
    const last = result.lines.at(-1)!;
    expect(last.type).toBe('error');
    expect(last.message).toContain(path.join(work, 'nope'));
  });
});
