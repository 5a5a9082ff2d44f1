import { z } from 'zod';

/**
 * Checkpoints found in a run folder on the host, and diffs computed there (issue 7).
 * Spread into the one contract in `contract.ts`; import nothing from there (it imports this file).
 * The weights never leave the host: `ptw-host.pyz inspect` (resources/host/ptw_host/checkpoints/) reads them there and
 * only summaries travel.
 */

export const checkpointAdapterSchema = z.object({
  peftType: z.string(),
  rank: z.number().nullable(),
  alpha: z.number().nullable(),
  targetModules: z.array(z.string()),
  baseModel: z.string().nullable(),
});

export const checkpointInfoSchema = z.object({
  /** How commands name it: the folder relative to the run folder (`workspace/final_model`), or `base`. */
  id: z.string(),
  /** Absolute path on the host. */
  path: z.string(),
  /** `run`: in the run's workspace; `hf-cache`: the task's base model in the host's Hugging Face cache. */
  origin: z.enum(['run', 'hf-cache']),
  /** `lora`: a PEFT adapter (adapter_config.json); `full`: a whole model. */
  kind: z.enum(['full', 'lora']),
  /** The base model's name (e.g. `Qwen/Qwen3-4B-Base`) for `base`. */
  label: z.string().optional(),
  files: z.array(z.string()),
  /** `model.safetensors.index.json` when sharded. */
  index: z.string().nullable(),
  sizeBytes: z.number(),
  tensorCount: z.number(),
  parameterCount: z.number(),
  /** Parameters per dtype. */
  dtypes: z.record(z.string(), z.number()),
  /** Newest weight file's mtime, epoch ms. */
  mtime: z.number(),
  hasConfig: z.boolean(),
  /** Which of config.json, generation_config.json, tokenizer_config.json, chat_template.jinja (and adapter_config.json) exist. */
  configFiles: z.array(z.string()),
  adapter: checkpointAdapterSchema.nullable(),
  /** Why it cannot be diffed (a bad header, a missing shard, a link), naming the file. */
  problems: z.array(z.string()).default([]),
});
export type CheckpointInfo = z.infer<typeof checkpointInfoSchema>;

export const checkpointListSchema = z.object({
  runId: z.string(),
  hostRunDir: z.string(),
  /** The task's base model, when the run has one. */
  baseModel: z.string().nullable(),
  checkpoints: z.array(checkpointInfoSchema),
  /** The base model in the host's HF cache, when found. */
  base: checkpointInfoSchema.nullable(),
  problems: z.array(z.string()),
});
export type CheckpointList = z.infer<typeof checkpointListSchema>;

/** `not-compared`: a tensor with a dtype the format does not define (or the diff cannot decode); see `problem`. */
export const tensorStatusSchema = z.enum([
  'same',
  'changed',
  'added',
  'removed',
  'shape-changed',
  'dtype-changed',
  'not-compared',
]);
export type TensorStatus = z.infer<typeof tensorStatusSchema>;

export const tensorDiffSchema = z.object({
  name: z.string(),
  status: tensorStatusSchema,
  dtypeA: z.string().nullable(),
  dtypeB: z.string().nullable(),
  shapeA: z.array(z.number()).nullable(),
  shapeB: z.array(z.number()).nullable(),
  numel: z.number(),
  /** ‖B − A‖₂ (null when not comparable or not finite). */
  l2Delta: z.number().nullable(),
  /** ‖A‖₂. */
  l2A: z.number().nullable(),
  /** ‖B − A‖ / ‖A‖. */
  relChange: z.number().nullable(),
  cosine: z.number().nullable(),
  maxAbs: z.number().nullable(),
  /** A NaN or infinity in either tensor. */
  nonFinite: z.boolean().default(false),
  /** Elements that differ bit for bit (the host counts them); absent where not counted. */
  changedElements: z.number().optional(),
  /** Why the tensor was not compared. */
  problem: z.string().optional(),
});
export type TensorDiff = z.infer<typeof tensorDiffSchema>;

export const diffFlagSchema = z.object({
  kind: z.enum([
    'nothing-changed',
    'identical-to-reference',
    'lora',
    'full-fine-tune',
    'partial-fine-tune',
    'embedding-resized',
    'non-finite',
  ]),
  /** One line for a badge's tooltip and the CLI. */
  detail: z.string(),
});
export type DiffFlag = z.infer<typeof diffFlagSchema>;

export const configFileDiffSchema = z.object({
  name: z.string(),
  /** The file's text, or null when that side has none (capped at 1 MiB). */
  a: z.string().nullable(),
  b: z.string().nullable(),
});

export const diffEngineSchema = z.enum(['numpy', 'python']);
export type DiffEngine = z.infer<typeof diffEngineSchema>;

export const checkpointDiffSchema = z.object({
  runId: z.string(),
  a: checkpointInfoSchema,
  b: checkpointInfoSchema,
  tensors: z.array(tensorDiffSchema),
  flags: z.array(diffFlagSchema),
  configs: z.array(configFileDiffSchema),
  totals: z.object({
    tensors: z.number(),
    changed: z.number(),
    same: z.number(),
    added: z.number(),
    removed: z.number(),
    reshaped: z.number(),
    /** Parameters in changed tensors / parameters in comparable tensors. */
    changedParamFraction: z.number(),
  }),
  stats: z.object({
    /** Time on the host. */
    seconds: z.number(),
    /** Weight bytes the host read. */
    bytesRead: z.number(),
    /** Bytes that crossed SSH for this diff (summaries, config files, the helper itself). */
    bytesTransferred: z.number(),
    jobs: z.number(),
    /** How the host reduced changed ranges: `numpy` (fast), or `python` (the standard library alone). */
    engine: diffEngineSchema.optional(),
    /** The host's numpy version, when the engine is numpy. */
    numpyVersion: z.string().optional(),
    /** Why the host fell back to pure Python (e.g. numpy cannot be imported by its python3). */
    engineNote: z.string().optional(),
  }),
});
export type CheckpointDiff = z.infer<typeof checkpointDiffSchema>;

const runAndCheckpoints = z
  .object({
    id: z.string().min(1),
    /** Checkpoint ids from `checkpoints.list` (`base` for the base model in the HF cache). */
    a: z.string().min(1),
    b: z.string().min(1),
    /** `b` is a checkpoint of this other run (on the same host): two runs' final models diffed against each other. */
    bRun: z.string().min(1).optional(),
  })
  .strict();

export const checkpointsCommands = {
  /** Checkpoints in the run's folder on the host (and the task's base model in the host's HF cache). */
  'checkpoints.list': { input: z.object({ id: z.string().min(1) }).strict(), output: checkpointListSchema },
  /** Diffs two checkpoints on the host; `checkpoints.diffProgress` events arrive meanwhile. */
  'checkpoints.diff': { input: runAndCheckpoints, output: checkpointDiffSchema },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const checkpointsEvents = {
  'checkpoints.diffProgress': z.object({
    runId: z.string(),
    a: z.string(),
    b: z.string(),
    tensorsDone: z.number(),
    tensorsTotal: z.number(),
    bytesDone: z.number(),
    bytesTotal: z.number(),
  }),
} as const satisfies Record<string, z.ZodType>;
