import { z } from 'zod';
import { hostNameSchema } from '../hosts';
import { STREAM_FORMATS } from './agent-catalog';
import { canonicalJson } from './canonical-json';
import { modelScriptSchema } from './model-script';
import { formatDuration, parseByteSize, parseDuration } from './duration';
import { BASE_MODELS, BENCHMARKS, findBaseModel, findBenchmark, forbiddenCounterpartOf } from './task-catalog';

/**
 * The run spec: everything a researcher decides about one run, validated once here and used by the launch form,
 * `ptw run`, run.json and the spec hash. Input is forgiving (`budget: "1h30m"`, `memory: "64g"`, a base model by
 * short or Hugging Face id); the parsed spec is normalised (seconds, bytes, Hugging Face ids), so two ways of
 * writing the same run hash the same.
 */

export const DEFAULT_BUDGET_SECONDS = 10 * 3_600;
export const MAX_BUDGET_SECONDS = 7 * 24 * 3_600;

// --- task ---------------------------------------------------------------------------------------------------

const benchmarkIdSchema = z
  .string()
  .trim()
  .regex(
    /^[a-z0-9][a-z0-9_-]*$/,
    `a benchmark is a task folder name such as gsm8k (PostTrainBench's: ${BENCHMARKS.map((b) => b.id).join(', ')})`,
  );

const HF_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A catalog id (`Qwen3-4B-Base`) or any Hugging Face id (`org/name`) → the Hugging Face id. */
const baseModelSchema = z
  .string()
  .trim()
  .transform((value, ctx) => {
    const known = findBaseModel(value);
    if (known) return known.hfId;
    const forbidden = forbiddenCounterpartOf(value);
    if (forbidden) {
      ctx.addIssue({
        code: 'custom',
        message: `${value} is the post-trained release of ${forbidden.hfId}: it is the reference to beat and may not be the starting point. Use ${forbidden.hfId}.`,
      });
      return z.NEVER;
    }
    if (!HF_ID.test(value)) {
      ctx.addIssue({
        code: 'custom',
        message: `"${value}" is not a base model: use a Hugging Face id (org/name) or one of ${BASE_MODELS.map((m) => m.id).join(', ')}`,
      });
      return z.NEVER;
    }
    return value;
  });

export const ptbTaskSchema = z.object({
  kind: z.literal('ptb'),
  benchmark: benchmarkIdSchema,
  /** Normalised to the Hugging Face id. */
  baseModel: baseModelSchema,
});

export const rehearsalTaskSchema = z.object({ kind: z.literal('rehearsal') });

export const runTaskSchema = z.discriminatedUnion('kind', [ptbTaskSchema, rehearsalTaskSchema], {
  error: 'the task kind is "ptb" (a PostTrainBench benchmark and base model) or "rehearsal" (the built-in dry run)',
});
export type RunTask = z.infer<typeof runTaskSchema>;

// --- agent --------------------------------------------------------------------------------------------------

/** Provider model ids: `claude-opus-4-6`, `gpt-5.1-codex-max`, `anthropic/claude-sonnet-4-5`, `models/gemini-…`. */
const modelIdSchema = z
  .string()
  .trim()
  .min(1, 'name the model the agent should use, e.g. claude-sonnet-4-6')
  .max(200)
  .regex(
    /^(?:[A-Za-z0-9][A-Za-z0-9._:/@+-]*)?$/,
    'a model id has no spaces or shell characters, e.g. claude-sonnet-4-6',
  );

const commandSchema = z
  .array(z.string().refine((word) => !word.includes('\0'), 'a command word cannot contain a NUL byte'))
  .min(1, 'a custom agent needs a command: an argv list such as ["my-agent", "--model", "{model}", "{prompt}"]')
  .refine((argv) => (argv[0] ?? '').trim() !== '', 'the first word of the command is the program; it is empty');

export const runAgentSchema = z.discriminatedUnion(
  'id',
  [
    z.object({
      id: z.enum(['claude-code', 'codex', 'gemini-cli', 'opencode']),
      model: modelIdSchema,
      /** A rehearsal of the real CLI against a scripted model (docs/model-script.md); no script: the default one. */
      scripted: z.object({ script: modelScriptSchema.optional() }).optional(),
    }),
    z.object({ id: z.literal('rehearsal'), model: z.string().trim().default('rehearsal') }),
    z.object({
      id: z.literal('custom'),
      model: z.string().trim().default(''),
      command: commandSchema,
      /** What the command prints on stdout, when it is one of the known JSON-lines dialects. */
      streamFormat: z.enum(STREAM_FORMATS).default('none'),
    }),
  ],
  { error: 'the agent is one of claude-code, codex, gemini-cli, opencode, rehearsal, custom' },
);
export type RunAgent = z.infer<typeof runAgentSchema>;

// --- budget, limits ---------------------------------------------------------------------------------------------

const budgetSchema = z
  .union([z.number(), z.string()], { error: 'budget is a duration such as 10h, 90m or 1h30m (or a number of seconds)' })
  .transform((value, ctx) => {
    const parsed =
      typeof value === 'number'
        ? Number.isInteger(value)
          ? { ok: true as const, value }
          : { ok: false as const, message: `${value} is not a whole number of seconds` }
        : parseDuration(value);
    if (!parsed.ok) {
      ctx.addIssue({ code: 'custom', message: parsed.message });
      return z.NEVER;
    }
    if (parsed.value < 1 || parsed.value > MAX_BUDGET_SECONDS) {
      ctx.addIssue({
        code: 'custom',
        message: `a budget runs from 1s to ${formatDuration(MAX_BUDGET_SECONDS)}; ${formatDuration(parsed.value)} is outside that`,
      });
      return z.NEVER;
    }
    return parsed.value;
  });

function byteSizeSchema(what: string, minBytes: number, minText: string) {
  return z
    .union([z.number(), z.string()], { error: `${what} is a size such as 64g or 512m` })
    .transform((value, ctx) => {
      const parsed =
        typeof value === 'number'
          ? Number.isInteger(value) && value >= 0
            ? { ok: true as const, value }
            : { ok: false as const, message: `${value} is not a whole number of bytes` }
          : parseByteSize(value);
      if (!parsed.ok) {
        ctx.addIssue({ code: 'custom', message: parsed.message });
        return z.NEVER;
      }
      if (parsed.value < minBytes) {
        ctx.addIssue({ code: 'custom', message: `${what} must be at least ${minText}` });
        return z.NEVER;
      }
      return parsed.value;
    });
}

/**
 * Container limits. `cpus`, `memoryBytes`, `pidsLimit` and `shmBytes` are enforced by Docker; a memory limit and a
 * /dev/shm size left out come from the host's RAM (the run's GPUs' share of it, src/main/runs/sandbox-policy.ts),
 * the others left out mean no limit.
 * `diskBytes` is best-effort: Docker applies `--storage-opt size=` only on storage drivers that support quotas
 * (overlay2 on xfs with pquota, btrfs, zfs); elsewhere the launcher warns and the run goes on without it.
 */
export const runLimitsSchema = z.object({
  cpus: z
    .number({ error: 'cpus is a number of CPUs, e.g. 16 (fractions such as 0.5 allowed)' })
    .positive('cpus must be more than 0')
    .max(4096)
    .optional(),
  memoryBytes: byteSizeSchema('memory', 6 * 1024 ** 2, '6m (Docker’s minimum)').optional(),
  pidsLimit: z
    .number({ error: 'pidsLimit is a whole number of processes, e.g. 4096' })
    .int('pidsLimit is a whole number of processes')
    .min(64, 'pidsLimit below 64 starves the agent’s own tools; use at least 64')
    .optional(),
  diskBytes: byteSizeSchema('disk', 1024 ** 3, '1g').optional(),
  /** The size of the sandbox's /dev/shm; by default half the memory limit, at most 16 GiB (sandbox-policy.ts). */
  shmBytes: byteSizeSchema('shm', 64 * 1024 ** 2, '64m').optional(),
});
export type RunLimits = z.infer<typeof runLimitsSchema>;

// --- env ----------------------------------------------------------------------------------------------------

const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD)$/i;
/** The secret store's own variables (`PTW_SECRET_ANTHROPIC_API_KEY`): a credential whatever the rest says. */
const SECRET_STORE_NAME = /^PTW_SECRET_/i;

/** Shapes of well-known credentials; a value matching one is refused wherever the name came from. */
const SECRET_VALUE_PATTERNS: { pattern: RegExp; what: string }[] = [
  { pattern: /\bsk-[A-Za-z0-9_-]{16,}/, what: 'an API key (sk-…)' },
  { pattern: /\bAIza[0-9A-Za-z_-]{30,}/, what: 'a Google API key (AIza…)' },
  { pattern: /\bhf_[A-Za-z0-9]{30,}/, what: 'a Hugging Face token (hf_…)' },
  { pattern: /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{20,}/, what: 'a GitHub token' },
  { pattern: /\bglpat-[A-Za-z0-9_-]{20,}/, what: 'a GitLab token' },
  { pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/, what: 'a Slack token' },
  { pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/, what: 'an AWS access key' },
  { pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/, what: 'a private key' },
  { pattern: /\bBearer\s+[A-Za-z0-9._~+/=-]{16,}/i, what: 'a bearer token' },
];

const SECRET_STORE_HINT =
  'put credentials in the secret store instead: it hands them to the agent’s container only, never to run.json or the run folder';

/** Why `value` looks like a credential, or null. */
export function secretLikeValue(value: string): string | null {
  return SECRET_VALUE_PATTERNS.find(({ pattern }) => pattern.test(value))?.what ?? null;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const runEnvSchema = z.record(z.string(), z.string()).superRefine((env, ctx) => {
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `"${name}" is not a variable name (letters, digits and _, not starting with a digit)`,
      });
    } else if (SECRET_STORE_NAME.test(name)) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `${name} is how the secret store is given a credential (PTW_SECRET_<NAME>), never an agent's environment; ${SECRET_STORE_HINT}`,
      });
    } else if (SECRET_NAME.test(name)) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `${name} looks like a credential (names ending in KEY, TOKEN, SECRET or PASSWORD are); ${SECRET_STORE_HINT}`,
      });
    } else {
      const what = secretLikeValue(value);
      if (what) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `the value of ${name} looks like ${what}; ${SECRET_STORE_HINT}`,
        });
      }
    }
    if (value.includes('\0')) ctx.addIssue({ code: 'custom', path: [name], message: `${name} contains a NUL byte` });
    if (value.length > 8192) {
      ctx.addIssue({ code: 'custom', path: [name], message: `${name} is longer than 8192 characters` });
    }
  }
});

// --- the spec -----------------------------------------------------------------------------------------------

const networkSchema = z
  .union([z.boolean(), z.enum(['on', 'off'])], { error: 'network is on or off (true or false)' })
  .transform((v) => v === true || v === 'on');

export const runSpecSchema = z.object({
  /** A host profile name. */
  host: z
    .string({ error: 'host is the name of a host profile, e.g. gpu-box' })
    .trim()
    .min(1, 'name the host to run on (a host profile, e.g. gpu-box)')
    .pipe(hostNameSchema),
  task: runTaskSchema,
  agent: runAgentSchema,
  /** Seconds of agent time; input also takes `10h`, `90m`, `1h30m`, `20s`. */
  budgetSeconds: budgetSchema.default(DEFAULT_BUDGET_SECONDS),
  /** GPU indices on the host; empty = the first free one from the host's preflight. */
  gpus: z
    .array(z.number().int('a GPU index is a whole number').min(0, 'GPU indices start at 0'), {
      error: 'gpus is a list of GPU indices, e.g. [0] or [0, 1]',
    })
    .refine((list) => new Set(list).size === list.length, 'list each GPU index once')
    .default([]),
  /** The sandbox image; left out, the launcher uses the task's default image. */
  image: z
    .string()
    .trim()
    .min(1)
    .max(255)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/, 'an image reference such as ghcr.io/org/image:tag, without spaces')
    .optional(),
  limits: runLimitsSchema.default({}),
  /** Internet access for the agent (PostTrainBench leaves it open). */
  network: networkSchema.default(true),
  /** Extra, non-secret environment for the agent. */
  env: runEnvSchema.default({}),
  /** A note for lists; not part of the spec hash. */
  label: z
    .string()
    .trim()
    .max(120, 'keep the label under 120 characters')
    .regex(/^[^\p{Cc}]*$/u, 'the label is one line of text')
    .optional(),
});

export type RunSpec = z.infer<typeof runSpecSchema>;
/** What a form, a CLI or a JSON file may hand in before normalisation. */
export type RunSpecInput = z.input<typeof runSpecSchema>;

export interface RunSpecProblem {
  /** Dotted path of the field (`limits.memoryBytes`, `env.WANDB_API_KEY`); empty for the spec as a whole. */
  path: string;
  message: string;
}

export type RunSpecValidation = { ok: true; spec: RunSpec } | { ok: false; problems: RunSpecProblem[] };

/** Validates and normalises a run spec; every problem comes back with its field, in a researcher's words. */
export function validateRunSpec(input: unknown): RunSpecValidation {
  const parsed = runSpecSchema.safeParse(input);
  if (parsed.success) return { ok: true, spec: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.'),
      message: issue.message,
    })),
  };
}

/** One problem per line, `field: message`, for the CLI and error banners. */
export function formatRunSpecProblems(problems: readonly RunSpecProblem[]): string {
  return problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('\n');
}

/**
 * Not errors, but worth a second look before a 10-hour run: a benchmark or base model outside PostTrainBench's
 * grid (allowed, for variants; the benchmark must still exist in the checkout), an agent key in the wrong place.
 */
export function runSpecWarnings(spec: RunSpec): string[] {
  const warnings: string[] = [];
  if (spec.task.kind === 'ptb') {
    if (!findBenchmark(spec.task.benchmark)) {
      warnings.push(
        `${spec.task.benchmark} is not one of PostTrainBench's benchmarks (${BENCHMARKS.map((b) => b.id).join(', ')}); it must exist as a task folder in your checkout, and it has no weight in the overall score`,
      );
    }
    if (!findBaseModel(spec.task.baseModel)) {
      warnings.push(
        `${spec.task.baseModel} is not one of PostTrainBench's base models (${BASE_MODELS.map((m) => m.hfId).join(', ')}); there is no baseline to compare with`,
      );
    }
  }
  if (!spec.network && spec.agent.id !== 'rehearsal' && spec.agent.id !== 'custom' && !spec.agent.scripted) {
    warnings.push(`with the network off, ${spec.agent.id} cannot reach its model provider's API`);
  }
  return warnings;
}

/**
 * The hash input: the normalised spec as canonical JSON (RFC 8785 key order), without `label`, so relabelling a
 * run does not change its identity. Main hashes it with SHA-256 (`ptw.spec-hash`, run.json `specHash`).
 */
export function canonicalSpec(spec: RunSpec): string {
  const { label: _label, ...identity } = spec;
  return canonicalJson({ specVersion: 1, ...identity });
}
