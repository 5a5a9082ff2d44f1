import { z } from 'zod';

/**
 * Trajectory inspection (issue 6): replay index, agent steps, PostTrainBench import, bundles.
 * Spread into the one contract in `contract.ts`; import nothing from there (it imports this file).
 */

export const trajectoryCommands = {} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const trajectoryEvents = {} as const satisfies Record<string, z.ZodType>;
