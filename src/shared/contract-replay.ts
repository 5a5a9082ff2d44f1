import { z } from 'zod';

/**
 * Indexed terminal replay of a recorded run (issue 6).
 * Spread into the one contract in `contract.ts`; import nothing from there (it imports this file).
 */

export const replayCommands = {} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const replayEvents = {} as const satisfies Record<string, z.ZodType>;
