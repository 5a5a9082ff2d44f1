import { z } from 'zod';

/**
 * Live run view (issue 5): the terminal stream with acks, peek shell, GPU samples.
 * Spread into the one contract in `contract.ts`; import nothing from there (it imports this file).
 */

export const liveCommands = {} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const liveEvents = {} as const satisfies Record<string, z.ZodType>;
