import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSafetensorsHeader, parseShardedIndex } from '../../../../src/shared/checkpoints/safetensors-header';

const fixtures = path.resolve(__dirname, '..', '..', '..', 'fixtures');
const sample = (name: string): Uint8Array => readFileSync(path.join(fixtures, 'safetensors', name));

function header(json: string, dataBytes = 0, declared?: number): Uint8Array {
  const body = Buffer.from(json);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(declared ?? body.length));
  return Buffer.concat([len, body, Buffer.alloc(dataBytes)]);
}

describe('parseSafetensorsHeader', () => {
  it('parses every sample of the safetensors repository (U8 … F64) with its metadata', () => {
    const widths: Record<string, number> = { U8: 1, U16: 2, U32: 4, I8: 1, F64: 8, F16: 2, F32: 4, I16: 2, I32: 4 };
    const expected: Record<string, string> = {
      B: 'U8',
      H: 'U16',
      I: 'U32',
      b: 'I8',
      d: 'F64',
      e: 'F16',
      f: 'F32',
      h: 'I16',
      i: 'I32',
    };
    for (const [name, dtype] of Object.entries(expected)) {
      const file = `hf-safetensors-samples__${name}.safetensors`;
      const parsed = parseSafetensorsHeader(sample(file), { file });
      expect(parsed.metadata).toEqual({ test: 'a' });
      expect(parsed.tensors).toEqual([
        expect.objectContaining({ name, dtype, shape: [6], numel: 6, dataOffsets: [0, 6 * widths[dtype]!] }),
      ]);
    }
    const overall = parseSafetensorsHeader(sample('hf-safetensors-samples__overall.safetensors'), { file: 'overall' });
    expect(overall.tensors.map((t) => t.dtype)).toEqual(['U8', 'U16', 'U32', 'I8', 'F64', 'F16', 'F32', 'I16', 'I32']);
    expect(overall.dataStart).toBe(8 + 526);
    expect(readdirSync(path.join(fixtures, 'safetensors')).length).toBe(10);
  });

  it('rejects a header whose declared length exceeds the file, naming the file', () => {
    expect(() => parseSafetensorsHeader(header('{}', 0, 1_000_000), { file: '/x/model.safetensors' })).toThrow(
      '/x/model.safetensors: header declares 1000000 bytes but the file has only 2 after the length',
    );
    expect(() => parseSafetensorsHeader(new Uint8Array(3), { file: 'tiny' })).toThrow(
      'tiny: 3 bytes, too short for a safetensors header length (8 bytes)',
    );
  });

  it('rejects offsets out of range, sizes that do not match the dtype, overlaps and bad JSON', () => {
    const t = (o: [number, number], shape = [2], dtype = 'F32'): string =>
      JSON.stringify({ w: { dtype, shape, data_offsets: o } });
    expect(() => parseSafetensorsHeader(header(t([0, 8]), 4), { file: 'f' })).toThrow(
      'f: tensor "w": data_offsets [0, 8] run past the end of the data (4 bytes)',
    );
    expect(() => parseSafetensorsHeader(header(t([0, 4]), 8), { file: 'f' })).toThrow(
      'f: tensor "w": F32 [2] needs 8 bytes but data_offsets span 4',
    );
    const overlap = JSON.stringify({
      a: { dtype: 'U8', shape: [4], data_offsets: [0, 4] },
      b: { dtype: 'U8', shape: [4], data_offsets: [2, 6] },
    });
    expect(() => parseSafetensorsHeader(header(overlap, 8), { file: 'f' })).toThrow(
      'f: tensors "a" [0, 4] and "b" [2, 6] overlap',
    );
    expect(() => parseSafetensorsHeader(header('{"w": ', 0), { file: 'f' })).toThrow(/^f: header is not valid JSON/);
    expect(() => parseSafetensorsHeader(header(t([4, 2]), 8), { file: 'f' })).toThrow(
      'f: tensor "w" has invalid data_offsets',
    );
  });

  it('accepts every dtype of the format, including float8 and bf16', () => {
    const dtypes = { BF16: 2, F8_E4M3: 1, F8_E5M2: 1, BOOL: 1, I64: 8, U64: 8 };
    let offset = 0;
    const h: Record<string, unknown> = {};
    for (const [dtype, width] of Object.entries(dtypes)) {
      h[dtype] = { dtype, shape: [3], data_offsets: [offset, offset + 3 * width] };
      offset += 3 * width;
    }
    const parsed = parseSafetensorsHeader(header(JSON.stringify(h), offset), { file: 'f' });
    expect(parsed.tensors.map((x) => x.dtype)).toEqual(Object.keys(dtypes));
  });
});

describe('parseShardedIndex', () => {
  it('resolves the real SmolLM3-3B index into its two shards', () => {
    const file = path.join(fixtures, 'hf-model-configs', 'SmolLM3-3B', 'model.safetensors.index.json');
    const index = parseShardedIndex(readFileSync(file, 'utf8'), file);
    expect(index.shards.map((s) => s.file)).toEqual([
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
    ]);
    expect(index.weightMap['model.embed_tokens.weight']).toBe('model-00001-of-00002.safetensors');
    expect(index.metadata.total_parameters).toBe(3075098624);
    expect(index.shards.reduce((n, s) => n + s.tensors.length, 0)).toBe(Object.keys(index.weightMap).length);
  });

  it('refuses shard names that leave the folder', () => {
    expect(() => parseShardedIndex('{"weight_map": {"w": "../etc/passwd"}}', 'idx.json')).toThrow(
      'idx.json: tensor "w" maps to "../etc/passwd", not a file name in the folder',
    );
    expect(() => parseShardedIndex('{}', 'idx.json')).toThrow('idx.json: no weight_map object');
  });
});
