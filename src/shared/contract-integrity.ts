import { z } from 'zod';

/**
 * Integrity verdicts (issue 13): deterministic reward-hacking checks over a run, computed where the run is
 * (`ptw-host.pyz integrity`, resources/host/ptw_host/integrity/, on the GPU host; the same on this machine for an
 * imported run).
 * Spread into the one contract in `contract.ts`; import nothing from there (it imports this file).
 *
 * `integrityVerdictSchema` is the exact JSON of `ptw integrity check --json` and of the run's
 * `integrity/verdict.json` (which the leaderboard reads): `{ run, verdict, flags, checks }`.
 */

export const integrityKindSchema = z.enum([
  'contamination',
  'model_substitution',
  'eval_tampering',
  'api_misuse',
  'untrained',
]);
export type IntegrityKind = z.infer<typeof integrityKindSchema>;

export const checkKindSchema = z.enum(['contamination', 'model_substitution', 'eval_tampering', 'api_misuse']);
export type IntegrityCheckKind = z.infer<typeof checkKindSchema>;

/**
 * One piece of evidence, as the helper reports it: `type` says which fields it has (`test-item`: file, line, item,
 * itemText, span, coverage…; `diff`/`config`: file and a diff or changed field; `command`/`code`: file, line, the
 * text and why; `weights`: distances). Kept loose so a newer helper's extra fields pass through.
 */
export const integrityEvidenceSchema = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  file: z.string().optional(),
  line: z.number().optional(),
  why: z.string().optional(),
  item: z.number().optional(),
  itemId: z.string().nullable().optional(),
  itemText: z.string().optional(),
  span: z.string().optional(),
  coverage: z.number().optional(),
  idf5: z.number().optional(),
  diff: z.string().optional(),
  field: z.string().optional(),
  /** When the evidence appeared at the latest (the file's mtime, or the trace line's time), host clock, epoch ms. */
  mtime: z.number().nullable().optional(),
  /** `weights`: the model (`ORG/NAME`, in the HF cache) the distances are to, for the checkpoint diff. */
  reference: z.string().optional(),
  /** `diff`/`config`: the two whole texts (clean or base model's, and the agent's), for the diff editor. */
  cleanText: z.string().optional(),
  agentText: z.string().optional(),
  /** Either text was cut at the helper's limit (256 KiB). */
  textsCut: z.boolean().optional(),
});
export type IntegrityEvidence = z.infer<typeof integrityEvidenceSchema>;

export const integrityFlagSchema = z.object({
  kind: integrityKindSchema,
  severity: z.enum(['high', 'medium', 'info']),
  summary: z.string(),
  evidence: z.array(integrityEvidenceSchema),
});
export type IntegrityFlag = z.infer<typeof integrityFlagSchema>;

export const integrityCheckSchema = z.object({
  kind: checkKindSchema,
  status: z.enum(['pass', 'flag', 'not-run']),
  reason: z.string(),
});
export type IntegrityCheck = z.infer<typeof integrityCheckSchema>;

export const integrityVerdictSchema = z.object({
  run: z.string(),
  verdict: z.enum(['clean', 'flagged', 'incomplete']),
  flags: z.array(integrityFlagSchema),
  checks: z.array(integrityCheckSchema),
});
export type IntegrityVerdict = z.infer<typeof integrityVerdictSchema>;

export const integrityDecisionSchema = z.object({
  /** `flagKey` of the flag decided on. */
  flag: z.string(),
  decision: z.enum(['confirmed', 'dismissed']),
  note: z.string().max(4000),
  at: z.number(),
});
export type IntegrityDecision = z.infer<typeof integrityDecisionSchema>;

/** Everything the Integrity tab shows about a run: the verdict, what the pass could not read, decisions. */
export const integrityRecordSchema = z.object({
  verdict: integrityVerdictSchema,
  /** When the pass finished (epoch ms) and where it ran. */
  checkedAt: z.number(),
  where: z.enum(['host', 'local']),
  /** What the pass read for an imported run (the record, or the PostTrainBench folder it came from). */
  source: z.string(),
  /** Files not read, with why (a link, binary content, a Parquet file without pyarrow…). */
  skipped: z.array(z.object({ file: z.string(), reason: z.string() })),
  skippedCount: z.number(),
  seconds: z.number(),
  /** Per-check details the helper adds (test set used, bytes scanned, weight distances). */
  details: z.array(z.record(z.string(), z.unknown())),
  /**
   * Per flag (by `flagKey`): when a pass first reported it (this machine's clock) and the earliest time its evidence
   * carries (host clock), for the run's timeline.
   */
  firstSeen: z.record(z.string(), z.object({ at: z.number(), evidenceAt: z.number().nullable() })).default({}),
});
export type IntegrityRecord = z.infer<typeof integrityRecordSchema>;

export const integrityStateSchema = z.object({
  runId: z.string(),
  record: integrityRecordSchema.nullable(),
  decisions: z.array(integrityDecisionSchema),
  /** The judge files of an imported PostTrainBench folder, shown beside our verdict. */
  judge: z.array(z.object({ file: z.string(), flagged: z.boolean().nullable(), text: z.string() })),
});
export type IntegrityState = z.infer<typeof integrityStateSchema>;

/** One verdict of PostTrainBench's LLM judge (shared/integrity/ptb-judge.ts). */
export const integrityJudgeEntrySchema = z.object({
  /** `imported`: the judge files of an imported PostTrainBench folder; `ran`: this app ran the judge on the host. */
  source: z.enum(['imported', 'ran']),
  file: z.string(),
  /** The judge's word for the check: `contamination`, `disallowed_model`, `disallowed_api_usage`… */
  check: z.string(),
  flagged: z.boolean().nullable(),
  text: z.string(),
  /** Why no verdict could be read from the file. */
  problem: z.string().optional(),
});
export type IntegrityJudgeEntry = z.infer<typeof integrityJudgeEntrySchema>;

/** The optional PostTrainBench judge of a run: its verdicts, and the last time this app ran it. */
export const integrityJudgeSchema = z.object({
  runId: z.string(),
  entries: z.array(integrityJudgeEntrySchema),
  ran: z
    .object({
      at: z.number(),
      /** The judge model (the harness's: gpt-5.1-codex). */
      model: z.string(),
      exitCode: z.number().nullable(),
      /** The end of Codex's output when it failed. */
      note: z.string(),
    })
    .nullable(),
  /** Whether this run can have the judge run here (a PostTrainBench task on its host). */
  runnable: z.boolean(),
});
export type IntegrityJudge = z.infer<typeof integrityJudgeSchema>;

const dirOption = z.string().min(1).max(4096).optional();

const modelName = z.string().min(3).max(200);

/** The base ↔ instruct table of the model-substitution check (shared/integrity/model-pairs.ts). */
export const integrityModelsSchema = z.object({
  /** Where the user's pairs are kept (`PTW_HOME/integrity-models.json`). */
  file: z.string(),
  pairs: z.array(z.object({ base: z.string(), instruct: z.string(), source: z.enum(['built-in', 'user']) })),
});
export type IntegrityModels = z.infer<typeof integrityModelsSchema>;

export const integrityCommands = {
  /** Runs every check now (on the host, or locally for an imported run) and stores the verdict. */
  'integrity.check': {
    input: z
      .object({
        id: z.string().min(1),
        /** A Hugging Face cache holding the base and instruct models (default: the host profile's, ~/.cache). */
        references: dirOption,
        /** A folder of `<benchmark>.jsonl|parquet` test sets. */
        testSets: dirOption,
        /** A PostTrainBench checkout (clean task files, and test data where the task ships it). */
        ptbCheckout: dirOption,
      })
      .strict(),
    output: integrityStateSchema,
  },
  /** The stored verdict and decisions (null record when no pass ran yet). */
  'integrity.get': { input: z.object({ id: z.string().min(1) }).strict(), output: integrityStateSchema },
  /** A person's decision on one flag, with a note; `decision: null` withdraws it. Kept in the local record. */
  'integrity.decide': {
    input: z
      .object({
        id: z.string().min(1),
        flag: z.string().min(1).max(200),
        decision: z.enum(['confirmed', 'dismissed']).nullable(),
        note: z.string().max(4000).default(''),
      })
      .strict(),
    output: integrityStateSchema,
  },
  /**
   * The base ↔ instruct table; `add` adds or replaces user pairs (a built-in base may be pointed elsewhere), `remove`
   * drops user pairs (built-in ones cannot be removed). Every later pass uses the table.
   */
  'integrity.models': {
    input: z
      .object({
        add: z
          .array(z.object({ base: modelName, instruct: modelName }).strict())
          .max(100)
          .default([]),
        remove: z.array(modelName).max(100).default([]),
      })
      .strict(),
    output: integrityModelsSchema,
  },
  /** PostTrainBench's judge verdicts for a run (imported judge files, or the ones this app's run of it wrote). */
  'integrity.judge': { input: z.object({ id: z.string().min(1) }).strict(), output: integrityJudgeSchema },
  /**
   * Optional: runs PostTrainBench's own LLM judge (its checkout's src/disallowed_usage_judge/, through Codex) on the
   * run's host, after the evaluation, with the user's CODEX_API_KEY from the secret store. It sends the workspace
   * to OpenAI: never run without being asked.
   */
  'integrity.runJudge': { input: z.object({ id: z.string().min(1) }).strict(), output: integrityJudgeSchema },
} as const;

export const integrityEvents = {
  /** A run's verdict or decisions changed (a pass finished, a decision was recorded). */
  'integrity.changed': z.object({ runId: z.string(), verdict: z.enum(['clean', 'flagged', 'incomplete']).nullable() }),
} as const;
