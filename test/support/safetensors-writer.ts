import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Writes real safetensors files for tests and benchmarks (the format: 8-byte LE header length, JSON header padded
 * with spaces to 8 bytes, data), and computes the diff numbers independently of the host helper: values are decoded
 * here from the bytes written, and summed in float64.
 */

export interface TensorSpec {
  name: string;
  dtype: 'F32' | 'F16' | 'BF16';
  shape: number[];
  /** The values as stored (already representable in `dtype`; see the encoders). */
  values: Float64Array;
}

/** A deterministic PRNG (mulberry32), so a failing test can be rerun with the same numbers. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** bf16 bits: the high half of the float32 (truncated). */
export function toBf16Bits(x: number): number {
  f32[0] = x;
  return u32[0]! >>> 16;
}

export function fromBf16Bits(bits: number): number {
  u32[0] = (bits & 0xffff) << 16;
  return f32[0]!;
}

/** IEEE half → number, by the formula (independent of any library). */
export function fromF16Bits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const man = bits & 0x3ff;
  if (exp === 0) return sign * man * 2 ** -24;
  if (exp === 0x1f) return man ? NaN : sign * Infinity;
  return sign * (1 + man / 1024) * 2 ** (exp - 15);
}

/** number → nearest-below half bits for |x| in the normal range (tests use values in [2^-10, 8)). */
export function toF16Bits(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a === 0) return sign;
  let exp = Math.floor(Math.log2(a));
  let man = Math.floor((a / 2 ** exp - 1) * 1024);
  if (man >= 1024) {
    man = 0;
    exp++;
  }
  return sign | ((exp + 15) << 10) | man;
}

/** Values rounded to what `dtype` stores, so the test's reference uses exactly the numbers on disk. */
export function representable(dtype: TensorSpec['dtype'], values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out[i] =
      dtype === 'BF16' ? fromBf16Bits(toBf16Bits(v)) : dtype === 'F16' ? fromF16Bits(toF16Bits(v)) : Math.fround(v);
  }
  return out;
}

export function encode(t: TensorSpec): Buffer {
  const n = t.values.length;
  if (t.dtype === 'F32') {
    const buf = Buffer.alloc(n * 4);
    for (let i = 0; i < n; i++) buf.writeFloatLE(t.values[i]!, i * 4);
    return buf;
  }
  const buf = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++)
    buf.writeUInt16LE(t.dtype === 'BF16' ? toBf16Bits(t.values[i]!) : toF16Bits(t.values[i]!), i * 2);
  return buf;
}

export function safetensorsBytes(tensors: readonly TensorSpec[], metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const blobs: Buffer[] = [];
  let offset = 0;
  for (const t of tensors) {
    const data = encode(t);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + data.length] };
    offset += data.length;
    blobs.push(data);
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([length, Buffer.from(json), ...blobs]);
}

/** A checkpoint folder: config.json plus one safetensors file, or `shards` files with an index. */
export function writeCheckpoint(
  dir: string,
  tensors: readonly TensorSpec[],
  options: { config?: Record<string, unknown>; shards?: number; adapterConfig?: Record<string, unknown> } = {},
): void {
  mkdirSync(dir, { recursive: true });
  if (options.adapterConfig) {
    writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify(options.adapterConfig, null, 2));
    writeFileSync(path.join(dir, 'adapter_model.safetensors'), safetensorsBytes(tensors));
    return;
  }
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(options.config ?? { model_type: 'llama' }, null, 2));
  const shards = options.shards ?? 1;
  if (shards === 1) {
    writeFileSync(path.join(dir, 'model.safetensors'), safetensorsBytes(tensors, { format: 'pt' }));
    return;
  }
  const weightMap: Record<string, string> = {};
  const per = Math.ceil(tensors.length / shards);
  for (let s = 0; s < shards; s++) {
    const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const part = tensors.slice(s * per, (s + 1) * per);
    for (const t of part) weightMap[t.name] = file;
    writeFileSync(path.join(dir, file), safetensorsBytes(part, { format: 'pt' }));
  }
  writeFileSync(
    path.join(dir, 'model.safetensors.index.json'),
    JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }, null, 2),
  );
}

export interface ReferenceStats {
  l2Delta: number;
  l2A: number;
  relChange: number;
  cosine: number;
  maxAbs: number;
}

/** The diff numbers of one tensor pair, in float64 straight from the definitions. */
export function referenceStats(a: Float64Array, b: Float64Array): ReferenceStats {
  let aa = 0;
  let bb = 0;
  let ab = 0;
  let dd = 0;
  let maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    aa += x * x;
    bb += y * y;
    ab += x * y;
    dd += (x - y) * (x - y);
    maxAbs = Math.max(maxAbs, Math.abs(x - y));
  }
  return {
    l2Delta: Math.sqrt(dd),
    l2A: Math.sqrt(aa),
    relChange: Math.sqrt(dd) / Math.sqrt(aa),
    cosine: ab / Math.sqrt(aa * bb),
    maxAbs,
  };
}
