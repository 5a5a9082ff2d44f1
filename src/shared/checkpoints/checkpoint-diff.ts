import type { CheckpointDiff, CheckpointInfo, DiffFlag, TensorDiff, TensorStatus } from '../contract-checkpoints';

/**
 * What a checkpoint diff means, from the per-tensor sums the host helper computed (`ptw-host.pyz inspect diff`,
 * resources/host/ptw_host/checkpoints/): norms, relative change and cosine per tensor, the flags, the per-layer
 * heatmap. Pure, so the host does only the reading and the summing, and the rules here are unit-tested.
 */

/** One `{"type": "tensor"}` line from the host helper. */
export interface HostTensorRecord {
  name: string;
  dtypeA: string | null;
  dtypeB: string | null;
  shapeA: number[] | null;
  shapeB: number[] | null;
  /** Present for comparable tensors (same dtype and shape). */
  same?: boolean;
  /** Σa², Σb², Σ(a−b)²: null for tensors whose bytes are identical (never summed). */
  a2?: number | null;
  b2?: number | null;
  d2?: number | null;
  maxAbs?: number | null;
  nonFinite?: boolean;
  /** How many elements differ, bit for bit (a changed tensor may have changed in a few rows only). */
  changedElements?: number;
  /** Why the tensor was not compared (a dtype the format does not define, or the diff cannot decode). */
  problem?: string;
}

const numelOf = (shape: readonly number[] | null): number => (shape ? shape.reduce((a, b) => a * b, 1) : 0);

function sameShape(a: readonly number[] | null, b: readonly number[] | null): boolean {
  return !!a && !!b && a.length === b.length && a.every((d, i) => d === b[i]);
}

export function tensorStatus(r: HostTensorRecord): TensorStatus {
  if (r.problem !== undefined) return 'not-compared';
  if (r.dtypeA === null) return 'added';
  if (r.dtypeB === null) return 'removed';
  if (r.dtypeA !== r.dtypeB) return 'dtype-changed';
  if (!sameShape(r.shapeA, r.shapeB)) return 'shape-changed';
  if (r.same === undefined) return 'changed';
  return r.same ? 'same' : 'changed';
}

/** Norms, relative change and cosine from the host's sums (cos = (Σa² + Σb² − Σ(a−b)²) / 2‖a‖‖b‖). */
export function tensorDiffFromHost(r: HostTensorRecord): TensorDiff {
  const status = tensorStatus(r);
  const base = {
    name: r.name,
    status,
    dtypeA: r.dtypeA,
    dtypeB: r.dtypeB,
    shapeA: r.shapeA,
    shapeB: r.shapeB,
    numel: Math.max(numelOf(r.shapeA), numelOf(r.shapeB)),
    nonFinite: r.nonFinite === true,
    ...(r.problem !== undefined ? { problem: r.problem } : {}),
    ...(typeof r.changedElements === 'number' && Number.isFinite(r.changedElements)
      ? { changedElements: r.changedElements }
      : {}),
  };
  if (status === 'same') {
    return { ...base, l2Delta: 0, l2A: null, relChange: 0, cosine: 1, maxAbs: 0 };
  }
  if (status !== 'changed' || r.a2 == null || r.b2 == null || r.d2 == null) {
    return { ...base, l2Delta: null, l2A: null, relChange: null, cosine: null, maxAbs: r.maxAbs ?? null };
  }
  const l2A = Math.sqrt(r.a2);
  const l2B = Math.sqrt(r.b2);
  const l2Delta = Math.sqrt(r.d2);
  const relChange = l2A > 0 ? l2Delta / l2A : l2Delta === 0 ? 0 : null;
  const cosine = l2A > 0 && l2B > 0 ? Math.min(1, Math.max(-1, (r.a2 + r.b2 - r.d2) / (2 * l2A * l2B))) : null;
  return { ...base, l2Delta, l2A, relChange, cosine, maxAbs: r.maxAbs ?? null };
}

/** The hint shown when the host diffed in pure Python. */
export const NUMPY_HINT =
  'pure Python: install numpy for the host’s python3 (e.g. apt install python3-numpy) for much faster diffs';

/** How the host computed a diff, for the CLI and the tab: the line, and a hint when numpy would be faster. */
export function diffEngineText(stats: CheckpointDiff['stats']): { line: string; hint: string | null } {
  const processes = `${stats.jobs} process${stats.jobs === 1 ? '' : 'es'}`;
  if (!stats.engine) return { line: `computed on host, ${processes}`, hint: null };
  const engine = stats.engine === 'numpy' && stats.numpyVersion ? `numpy ${stats.numpyVersion}` : stats.engine;
  const hint = stats.engine === 'python' ? `${NUMPY_HINT}${stats.engineNote ? ` (${stats.engineNote})` : ''}` : null;
  return { line: `computed on host with ${engine}, ${processes}`, hint };
}

export type DiffTotals = CheckpointDiff['totals'];

export function diffTotals(rows: readonly TensorDiff[]): DiffTotals {
  let changedParams = 0;
  let comparableParams = 0;
  const count = (s: TensorStatus): number => rows.filter((r) => r.status === s).length;
  for (const r of rows) {
    if (r.status === 'same' || r.status === 'changed') comparableParams += r.numel;
    // The elements that differ, where the host counted them; a whole changed tensor otherwise (older helpers).
    if (r.status === 'changed') changedParams += Math.min(r.numel, r.changedElements ?? r.numel);
  }
  return {
    tensors: rows.length,
    changed: count('changed'),
    same: count('same'),
    added: count('added'),
    removed: count('removed'),
    reshaped: count('shape-changed') + count('dtype-changed'),
    changedParamFraction: comparableParams > 0 ? changedParams / comparableParams : 0,
  };
}

/** Input and output embeddings: the tensors that grow when tokens are added. */
export function isEmbeddingTensor(name: string): boolean {
  return /(^|\.)(embed_tokens|lm_head|wte|word_embeddings|embed_in|embed_out|tok_embeddings|output)\.weight$/.test(
    name,
  );
}

/** At or above this share of comparable parameters changed, a diff reads as a full fine-tune. */
export const FULL_FINE_TUNE_FRACTION = 0.5;

function adapterText(info: CheckpointInfo): string {
  const a = info.adapter;
  if (!a) return `${info.id} is a LoRA adapter`;
  const parts = [a.rank !== null ? `rank ${a.rank}` : null, a.alpha !== null ? `alpha ${a.alpha}` : null].filter(
    Boolean,
  );
  const targets = a.targetModules.length > 0 ? ` on ${a.targetModules.join(', ')}` : '';
  return `${info.id} is a ${a.peftType} adapter${parts.length ? ` (${parts.join(', ')})` : ''}${targets}`;
}

const pct = (x: number): string => `${(x * 100).toFixed(x < 0.01 && x > 0 ? 2 : 0)}%`;

/** The badges: nothing changed / identical to the reference, LoRA vs full fine-tune, embedding resized, NaN/inf. */
export function diffFlags(a: CheckpointInfo, b: CheckpointInfo, rows: readonly TensorDiff[]): DiffFlag[] {
  const flags: DiffFlag[] = [];
  const totals = diffTotals(rows);
  const identical =
    rows.length > 0 &&
    totals.same === rows.length &&
    totals.added === 0 &&
    totals.removed === 0 &&
    totals.reshaped === 0;
  const reference = [a, b].find((c) => c.origin === 'hf-cache');
  if (identical && reference) {
    const other = reference === a ? b : a;
    flags.push({
      kind: 'identical-to-reference',
      detail: `${other.id} has exactly the weights of the base model ${reference.label ?? reference.id}: it was not trained`,
    });
  } else if (identical) {
    flags.push({
      kind: 'nothing-changed',
      detail: `All ${rows.length} tensors of ${a.id} and ${b.id} are byte-for-byte identical`,
    });
  }
  const adapters = [a, b].filter((c) => c.kind === 'lora');
  if (adapters.length > 0) {
    flags.push({ kind: 'lora', detail: adapters.map(adapterText).join('; ') });
  } else if (!identical && totals.changed > 0) {
    const detail = `${totals.changed} of ${totals.changed + totals.same} comparable tensors changed; ${pct(totals.changedParamFraction)} of the comparable parameters changed`;
    flags.push(
      totals.changedParamFraction >= FULL_FINE_TUNE_FRACTION
        ? { kind: 'full-fine-tune', detail }
        : { kind: 'partial-fine-tune', detail: `${detail}: some layers frozen, or a merged low-rank adapter` },
    );
  }
  const resized = rows.filter(
    (r) =>
      r.status === 'shape-changed' && isEmbeddingTensor(r.name) && r.shapeA && r.shapeB && r.shapeA[0] !== r.shapeB[0],
  );
  if (resized.length > 0) {
    flags.push({
      kind: 'embedding-resized',
      detail: resized
        .map((r) => {
          const delta = r.shapeB![0]! - r.shapeA![0]!;
          return `${r.name} ${r.shapeA!.join('×')} → ${r.shapeB!.join('×')} (${delta > 0 ? '+' : ''}${delta} rows)`;
        })
        .join('; '),
    });
  }
  const bad = rows.filter((r) => r.nonFinite);
  if (bad.length > 0) {
    flags.push({
      kind: 'non-finite',
      detail: `${bad.length} tensor(s) hold NaN or infinity, e.g. ${bad[0]!.name}`,
    });
  }
  return flags;
}

// --- per-layer heatmap ----------------------------------------------------------------------------------------

const LAYER_PATTERN = /(?:^|\.)(?:layers|h|blocks|layer)\.(\d+)\.(.+)$/;

/** `model.layers.12.self_attn.q_proj.weight` → layer 12, kind `self_attn.q_proj`; null when not in a layer. */
export function layerOf(name: string): { layer: number; kind: string } | null {
  const m = LAYER_PATTERN.exec(name);
  if (!m) return null;
  return { layer: Number(m[1]), kind: m[2]!.replace(/\.weight$/, '') };
}

export interface LayerHeatmap {
  layers: number[];
  kinds: string[];
  /** cells[layerIndex][kindIndex]: relative change ‖Δ‖/‖A‖ of the tensors there, null when none or not comparable. */
  cells: Array<Array<number | null>>;
  max: number;
}

/** Layers × tensor kinds; several tensors in one cell (experts) combine as √Σ‖Δ‖² / √Σ‖A‖². */
export function layerHeatmap(rows: readonly TensorDiff[]): LayerHeatmap {
  const layerSet = new Set<number>();
  const kindSet = new Set<string>();
  const sums = new Map<string, { d2: number; a2: number; any: boolean; unknownA: boolean }>();
  for (const r of rows) {
    const at = layerOf(r.name);
    if (!at) continue;
    layerSet.add(at.layer);
    kindSet.add(at.kind);
    if (r.status !== 'same' && r.status !== 'changed') continue;
    const key = `${at.layer}\u0000${at.kind}`;
    const cell = sums.get(key) ?? { d2: 0, a2: 0, any: false, unknownA: false };
    cell.any = true;
    if (r.status === 'changed') {
      if (r.l2Delta === null || r.l2A === null) cell.unknownA = true;
      else {
        cell.d2 += r.l2Delta ** 2;
        cell.a2 += r.l2A ** 2;
      }
    }
    sums.set(key, cell);
  }
  const layers = [...layerSet].sort((x, y) => x - y);
  const kinds = [...kindSet].sort();
  let max = 0;
  const cells = layers.map((layer) =>
    kinds.map((kind) => {
      const cell = sums.get(`${layer}\u0000${kind}`);
      if (!cell || !cell.any || cell.unknownA) return null;
      // Identical tensors add nothing to Σ‖Δ‖² and their ‖A‖ was never summed: a cell of only those reads 0.
      const value = cell.d2 === 0 ? 0 : cell.a2 > 0 ? Math.sqrt(cell.d2 / cell.a2) : null;
      if (value !== null) max = Math.max(max, value);
      return value;
    }),
  );
  return { layers, kinds, cells, max };
}
