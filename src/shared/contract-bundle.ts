import { z } from 'zod';

/**
 * Run bundles: export and import of a run as one file (issue 6).
 * Spread into the one contract in `contract.ts`; import nothing from there (it imports this file).
 */

export const bundleCommands = {} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const bundleEvents = {} as const satisfies Record<string, z.ZodType>;
