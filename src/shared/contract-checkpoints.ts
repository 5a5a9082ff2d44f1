import { z } from 'zod';

/**
 * Checkpoints found in a run folder on the host, and diffs computed there (issue 7).
 * Spread into the one contract in `contract.ts`; import nothing from there (it imports this file).
 */

export const checkpointsCommands = {} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const checkpointsEvents = {} as const satisfies Record<string, z.ZodType>;
