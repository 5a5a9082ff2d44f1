import { z } from 'zod';

/**
 * Checkpoints and datasets on the host (issue 7).
 * Spread into the one contract in `contract.ts`; import nothing from there (it imports this file).
 */

export const inspectCommands = {} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const inspectEvents = {} as const satisfies Record<string, z.ZodType>;
