import { z } from 'zod';

/**
 * Live monitoring of runs: GPU samples, budget, notifications (issue 5).
 * Spread into the one contract in `contract.ts`; import nothing from there (it imports this file).
 */

export const monitorCommands = {} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const monitorEvents = {} as const satisfies Record<string, z.ZodType>;
