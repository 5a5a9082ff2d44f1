import { describe, expect, it } from 'vitest';
import {
  diffEngineText,
  diffFlags,
  diffTotals,
  layerHeatmap,
  NUMPY_HINT,
  layerOf,
  tensorDiffFromHost,
  type HostTensorRecord,
} from '../../../../src/shared/checkpoints/checkpoint-diff';
import type { CheckpointInfo } from '../../../../src/shared/contract-checkpoints';

const info = (id: string, extra: Partial<CheckpointInfo> = {}): CheckpointInfo => ({
  id,
  path: `/runs/r/${id}`,
  origin: 'run',
  kind: 'full',
  files: ['model.safetensors'],
  index: null,
  sizeBytes: 1,
  tensorCount: 1,
  parameterCount: 1,
  dtypes: { BF16: 1 },
  mtime: 0,
  hasConfig: true,
  configFiles: ['config.json'],
  adapter: null,
  problems: [],
  ...extra,
});

const rec = (name: string, extra: Partial<HostTensorRecord> = {}): HostTensorRecord => ({
  name,
  dtypeA: 'BF16',
  dtypeB: 'BF16',
  shapeA: [4, 4],
  shapeB: [4, 4],
  same: true,
  ...extra,
});

describe('tensorDiffFromHost', () => {
  it('derives norms, relative change and cosine from the sums', () => {
    // a = (3, 4), b = (3, 0): Σa² 25, Σb² 9, Σd² 16, a·b 9 → cos 9/(5·3).
    const row = tensorDiffFromHost(
      rec('w', { shapeA: [2], shapeB: [2], same: false, a2: 25, b2: 9, d2: 16, maxAbs: 4 }),
    );
    expect(row).toMatchObject({ status: 'changed', l2A: 5, l2Delta: 4, relChange: 0.8, maxAbs: 4, numel: 2 });
    expect(row.cosine).toBeCloseTo(0.6, 12);
  });

  it('names added, removed, reshaped and retyped tensors', () => {
    expect(tensorDiffFromHost(rec('w', { dtypeA: null, shapeA: null })).status).toBe('added');
    expect(tensorDiffFromHost(rec('w', { dtypeB: null, shapeB: null })).status).toBe('removed');
    expect(tensorDiffFromHost(rec('w', { dtypeB: 'F32' })).status).toBe('dtype-changed');
    expect(tensorDiffFromHost(rec('w', { shapeB: [5, 4] })).status).toBe('shape-changed');
    expect(tensorDiffFromHost(rec('w'))).toMatchObject({ status: 'same', relChange: 0, cosine: 1, l2Delta: 0 });
  });
});

describe('diffFlags', () => {
  const same = [rec('a'), rec('b')].map(tensorDiffFromHost);

  it('nothing changed between two run checkpoints; identical to the reference when one is the base model', () => {
    expect(diffFlags(info('x'), info('y'), same).map((f) => f.kind)).toEqual(['nothing-changed']);
    const base = info('base', { origin: 'hf-cache', label: 'Qwen/Qwen3-4B-Base' });
    const flags = diffFlags(info('workspace/final_model'), base, same);
    expect(flags).toEqual([
      {
        kind: 'identical-to-reference',
        detail:
          'workspace/final_model has exactly the weights of the base model Qwen/Qwen3-4B-Base: it was not trained',
      },
    ]);
  });

  it('full vs partial fine-tune by the share of parameters changed', () => {
    const changed = (name: string, shape: number[]): HostTensorRecord =>
      rec(name, { shapeA: shape, shapeB: shape, same: false, a2: 1, b2: 1, d2: 0.01, maxAbs: 0.1 });
    const full = [changed('big', [100]), rec('small', { shapeA: [10], shapeB: [10] })].map(tensorDiffFromHost);
    expect(diffFlags(info('x'), info('y'), full)).toEqual([
      { kind: 'full-fine-tune', detail: '1 of 2 comparable tensors changed; 91% of the comparable parameters changed' },
    ]);
    const partial = [changed('small', [10]), rec('big', { shapeA: [100], shapeB: [100] })].map(tensorDiffFromHost);
    expect(diffFlags(info('x'), info('y'), partial)[0]!.kind).toBe('partial-fine-tune');
    // The share is of the elements that changed, as the host counted them: a big tensor with 4 new rows is not
    // a full fine-tune.
    const fewRows = [
      { ...changed('big', [100]), changedElements: 4 },
      rec('small', { shapeA: [10], shapeB: [10] }),
    ].map(tensorDiffFromHost);
    expect(diffFlags(info('x'), info('y'), fewRows)).toEqual([
      {
        kind: 'partial-fine-tune',
        detail:
          '1 of 2 comparable tensors changed; 4% of the comparable parameters changed: some layers frozen, or a merged low-rank adapter',
      },
    ]);
  });

  it('an unknown dtype is a problem on that tensor, not a dtype change', () => {
    const row = tensorDiffFromHost(
      rec('w', {
        dtypeA: 'F9_X',
        dtypeB: 'F9_X',
        problem: 'dtype "F9_X" is not one the safetensors format defines; not compared',
      }),
    );
    expect(row).toMatchObject({ status: 'not-compared', problem: expect.stringContaining('F9_X'), l2Delta: null });
    expect(diffTotals([row])).toMatchObject({ tensors: 1, changed: 0, reshaped: 0, changedParamFraction: 0 });
  });

  it('LoRA adapters, resized embeddings and NaNs', () => {
    const adapter = info('lora', {
      kind: 'lora',
      adapter: { peftType: 'LORA', rank: 8, alpha: 16, targetModules: ['q_proj', 'v_proj'], baseModel: null },
    });
    const rows = [
      rec('model.embed_tokens.weight', { shapeA: [100, 8], shapeB: [104, 8] }),
      rec('w', { same: false, a2: 1, b2: NaN, d2: null, nonFinite: true }),
    ].map(tensorDiffFromHost);
    expect(diffFlags(info('x'), adapter, rows)).toEqual([
      { kind: 'lora', detail: 'lora is a LORA adapter (rank 8, alpha 16) on q_proj, v_proj' },
      { kind: 'embedding-resized', detail: 'model.embed_tokens.weight 100×8 → 104×8 (+4 rows)' },
      { kind: 'non-finite', detail: '1 tensor(s) hold NaN or infinity, e.g. w' },
    ]);
  });
});

describe('layerHeatmap', () => {
  it('puts tensors in layers × kinds, combining a cell as √Σ‖Δ‖²/√Σ‖A‖²', () => {
    expect(layerOf('model.layers.12.self_attn.q_proj.weight')).toEqual({ layer: 12, kind: 'self_attn.q_proj' });
    expect(layerOf('transformer.h.3.attn.c_attn.bias')).toEqual({ layer: 3, kind: 'attn.c_attn.bias' });
    expect(layerOf('model.embed_tokens.weight')).toBeNull();
    const rows = [
      rec('model.layers.0.mlp.up_proj.weight', { same: false, a2: 4, b2: 4, d2: 1 }),
      rec('model.layers.1.mlp.up_proj.weight'),
      rec('model.layers.1.self_attn.q_proj.weight', { shapeB: [8, 4] }),
      rec('model.embed_tokens.weight', { same: false, a2: 1, b2: 1, d2: 1 }),
    ].map(tensorDiffFromHost);
    const map = layerHeatmap(rows);
    expect(map.layers).toEqual([0, 1]);
    expect(map.kinds).toEqual(['mlp.up_proj', 'self_attn.q_proj']);
    expect(map.cells).toEqual([
      [0.5, null],
      [0, null],
    ]);
    expect(map.max).toBe(0.5);
  });
});

describe('diffEngineText', () => {
  const stats = { seconds: 1, bytesRead: 2, bytesTransferred: 3, jobs: 2 };
  it('names numpy and its version, and the processes', () => {
    expect(diffEngineText({ ...stats, engine: 'numpy', numpyVersion: '1.24.2' })).toEqual({
      line: 'computed on host with numpy 1.24.2, 2 processes',
      hint: null,
    });
  });
  it('hints at installing numpy when the host diffed in pure Python, with the reason', () => {
    const text = diffEngineText({ ...stats, jobs: 1, engine: 'python', engineNote: 'No module named numpy' });
    expect(text.line).toBe('computed on host with python, 1 process');
    expect(text.hint).toBe(`${NUMPY_HINT} (No module named numpy)`);
    expect(text.hint).toContain('apt install python3-numpy');
  });
  it('says nothing about the engine when the host did not name one', () => {
    expect(diffEngineText(stats)).toEqual({ line: 'computed on host, 2 processes', hint: null });
  });
});
