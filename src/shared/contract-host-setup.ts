import { z } from 'zod';

/**
 * Setting up a fresh GPU host for real PostTrainBench runs (issue 15; docs/host-setup.md): the PostTrainBench checkout,
 * the run image built from its container definition, the model and data caches, a ready check. Each step is
 * idempotent: one already done says so and is skipped. Spread into the one contract in `contract.ts`.
 */

export const SETUP_STEPS = ['checkout', 'image', 'caches', 'ready'] as const;
export const setupStepSchema = z.enum(SETUP_STEPS);
export type SetupStep = z.infer<typeof setupStepSchema>;

export const setupStepResultSchema = z.object({
  step: setupStepSchema,
  /** `done`: changed something and succeeded; `skipped`: already done; `failed`: see summary and log. */
  status: z.enum(['done', 'skipped', 'failed', 'not-run']),
  summary: z.string(),
  /** The step's log (the last lines of a build), as the host printed it. */
  log: z.array(z.string()),
});
export type SetupStepResult = z.infer<typeof setupStepResultSchema>;

export const setupReportSchema = z.object({
  name: z.string(),
  /** Every requested step is done or skipped. */
  ok: z.boolean(),
  steps: z.array(setupStepResultSchema),
  ptbCheckout: z.string().nullable(),
  /** The image runs on this host use now (the host profile's first image). */
  image: z.string().nullable(),
});
export type SetupReport = z.infer<typeof setupReportSchema>;

export const hostSetupCommands = {
  /** Runs the requested set-up steps in order (default: all), stopping at the first that fails. */
  'hosts.setup': {
    input: z
      .object({
        name: z.string().min(1),
        steps: z.array(setupStepSchema).min(1).optional(),
        /** An existing checkout on the host. */
        ptbCheckout: z.string().min(1).optional(),
        /** Clone (or update) this repository on the host, at `ptbRev` (default: its default branch's head). */
        ptbRepo: z.string().min(1).optional(),
        ptbRev: z.string().min(1).optional(),
        /** A definition in the checkout's containers/ by name (`standard`), or a path on the host. */
        def: z.string().min(1).optional(),
        /** A Hugging Face mirror for the caches step (default the host's HF_ENDPOINT, else huggingface.co). */
        hfEndpoint: z.string().url().optional(),
      })
      .strict(),
    output: setupReportSchema,
  },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const hostSetupEvents = {
  /** A step started, made progress (`done` of `total`, e.g. build step 3 of 9), printed a line, or ended. */
  'hosts.setupProgress': z.object({
    name: z.string(),
    step: setupStepSchema,
    status: z.enum(['running', 'done', 'skipped', 'failed', 'not-run']),
    done: z.number().nullable(),
    total: z.number().nullable(),
    line: z.string().nullable(),
  }),
} as const satisfies Record<string, z.ZodType>;
