import { z } from 'zod';

/**
 * Structured agent steps, the one timeline, and PostTrainBench import (issue 6).
 * Spread into the one contract in `contract.ts`; import nothing from there (it imports this file).
 */

export const trajectoryCommands = {} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const trajectoryEvents = {} as const satisfies Record<string, z.ZodType>;
