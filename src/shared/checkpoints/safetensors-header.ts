import { AppError } from '../errors';

// src/shared is type-checked without DOM or Node types; TextDecoder exists in both runtimes (and workers).
declare const TextDecoder: new (label: string, options?: { fatal?: boolean }) => { decode(input: Uint8Array): string };

/**
 * The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length N, N bytes
 * of JSON (`{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}`), then the data,
 * offsets relative to its start. Pure: callers hand in the bytes they read. The host helper
 * (resources/host/ptw_host/checkpoints/checkpoint_files.py `read_header`) makes the same checks with the same messages.
 */

/** Bytes per element of each dtype the format defines; sub-byte types (F4, F6_*) have no whole-byte width. */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<string, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  F8_E8M0: 1,
  C64: 8,
};

/** Headers larger than this are refused (the reference implementation's limit). */
export const MAX_SAFETENSORS_HEADER_BYTES = 100 * 1024 * 1024;

export interface SafetensorsTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** Relative to the start of the data (after the header). */
  dataOffsets: [number, number];
  numel: number;
}

export interface SafetensorsHeader {
  /** The JSON header's length in bytes (the first 8 bytes of the file). */
  headerLength: number;
  /** Where the data starts in the file: 8 + headerLength. */
  dataStart: number;
  /** In the order of their data offsets. */
  tensors: SafetensorsTensor[];
  metadata: Record<string, string> | null;
}

function invalid(file: string, message: string): AppError {
  return new AppError('INVALID_INPUT', `${file}: ${message}`);
}

/**
 * The header length from the first 8 bytes, checked against the file size when known. Lengths are
 * read as a 64-bit integer; anything above 2^53 is refused rather than rounded.
 */
export function readSafetensorsHeaderLength(first8: Uint8Array, file: string, fileSize?: number): number {
  if (first8.length < 8) {
    throw invalid(file, `${first8.length} bytes, too short for a safetensors header length (8 bytes)`);
  }
  const view = new DataView(first8.buffer, first8.byteOffset, 8);
  const length = view.getBigUint64(0, true);
  if (fileSize !== undefined && length > BigInt(Math.max(0, fileSize - 8))) {
    throw invalid(
      file,
      `header declares ${length} bytes but the file has only ${Math.max(0, fileSize - 8)} after the length`,
    );
  }
  if (length > BigInt(MAX_SAFETENSORS_HEADER_BYTES)) {
    throw invalid(file, `header declares ${length} bytes, more than the ${MAX_SAFETENSORS_HEADER_BYTES} allowed`);
  }
  return Number(length);
}

const isNonNegativeInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Parses a safetensors header from the file's first bytes (at least 8 + header length of them).
 * `fileSize` (the whole file) lets it check that every tensor's data lies inside the file.
 */
export function parseSafetensorsHeader(
  bytes: Uint8Array,
  options: { file: string; fileSize?: number },
): SafetensorsHeader {
  const { file } = options;
  const fileSize = options.fileSize ?? bytes.length;
  const headerLength = readSafetensorsHeaderLength(bytes.subarray(0, 8), file, fileSize);
  if (bytes.length < 8 + headerLength) {
    throw invalid(file, `only ${bytes.length - 8} of the header's ${headerLength} bytes were read`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (err) {
    throw invalid(file, `header is not valid JSON (${(err as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw invalid(file, 'header is not a JSON object');
  const dataSize = fileSize - 8 - headerLength;
  let metadata: Record<string, string> | null = null;
  const tensors: SafetensorsTensor[] = [];
  for (const [name, info] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (info && typeof info === 'object' && !Array.isArray(info)) {
        metadata = {};
        for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
          if (typeof v !== 'string') throw invalid(file, `__metadata__ ${JSON.stringify(k)} is not a string`);
          metadata[k] = v;
        }
      } else if (info !== null) {
        throw invalid(file, '__metadata__ is not an object');
      }
      continue;
    }
    const where = `tensor ${JSON.stringify(name)}`;
    if (!info || typeof info !== 'object' || Array.isArray(info)) throw invalid(file, `${where} is not an object`);
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (typeof dtype !== 'string') throw invalid(file, `${where} has no dtype`);
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInt)) throw invalid(file, `${where} has an invalid shape`);
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every(isNonNegativeInt) ||
      (offsets[0] as number) > (offsets[1] as number)
    ) {
      throw invalid(file, `${where} has invalid data_offsets`);
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataSize) {
      throw invalid(file, `${where}: data_offsets [${begin}, ${end}] run past the end of the data (${dataSize} bytes)`);
    }
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    const width = SAFETENSORS_DTYPE_BYTES[dtype];
    if (width !== undefined && numel * width !== end - begin) {
      throw invalid(
        file,
        `${where}: ${dtype} [${(shape as number[]).join(', ')}] needs ${numel * width} bytes but data_offsets span ${end - begin}`,
      );
    }
    tensors.push({ name, dtype, shape: shape as number[], dataOffsets: [begin, end], numel });
  }
  tensors.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  for (let i = 1; i < tensors.length; i++) {
    const prev = tensors[i - 1]!;
    const cur = tensors[i]!;
    if (cur.dataOffsets[0] < prev.dataOffsets[1]) {
      throw invalid(
        file,
        `tensors ${JSON.stringify(prev.name)} [${prev.dataOffsets.join(', ')}] and ${JSON.stringify(cur.name)} [${cur.dataOffsets.join(', ')}] overlap`,
      );
    }
  }
  return { headerLength, dataStart: 8 + headerLength, tensors, metadata };
}

export interface ShardedIndex {
  metadata: Record<string, unknown>;
  /** tensor name → shard file name. */
  weightMap: Record<string, string>;
  /** The shard files, sorted, each with its tensor names. */
  shards: Array<{ file: string; tensors: string[] }>;
}

/** `model.safetensors.index.json`: which shard holds which tensor. Shard names must be plain file names. */
export function parseShardedIndex(text: string, file: string): ShardedIndex {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw invalid(file, `not valid JSON (${(err as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid(file, 'not a JSON object');
  const { weight_map: weightMap, metadata } = parsed as Record<string, unknown>;
  if (!weightMap || typeof weightMap !== 'object' || Array.isArray(weightMap))
    throw invalid(file, 'no weight_map object');
  const byShard = new Map<string, string[]>();
  const map: Record<string, string> = {};
  for (const [tensor, shard] of Object.entries(weightMap as Record<string, unknown>)) {
    if (typeof shard !== 'string' || shard === '' || shard === '.' || shard === '..' || /[/\\]/.test(shard)) {
      throw invalid(
        file,
        `tensor ${JSON.stringify(tensor)} maps to ${JSON.stringify(shard)}, not a file name in the folder`,
      );
    }
    map[tensor] = shard;
    const list = byShard.get(shard) ?? [];
    list.push(tensor);
    byShard.set(shard, list);
  }
  return {
    metadata:
      metadata && typeof metadata === 'object' && !Array.isArray(metadata) ? (metadata as Record<string, unknown>) : {},
    weightMap: map,
    shards: [...byShard.keys()].sort().map((f) => ({ file: f, tensors: byShard.get(f)!.sort() })),
  };
}
