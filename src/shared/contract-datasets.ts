import { z } from 'zod';

/**
 * Datasets the agent wrote, opened over SSH with random access (issue 7).
 * Spread into the one contract in `contract.ts`; import nothing from there (it imports this file).
 */

export const datasetsCommands = {} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const datasetsEvents = {} as const satisfies Record<string, z.ZodType>;
