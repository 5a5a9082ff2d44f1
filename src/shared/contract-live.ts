import { z } from 'zod';

/**
 * Live terminal stream of a running run with ack-based flow control, and the peek shell (issue 5).
 * Spread into the one contract in `contract.ts`; import nothing from there (it imports this file).
 */

export const liveCommands = {} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const liveEvents = {} as const satisfies Record<string, z.ZodType>;
