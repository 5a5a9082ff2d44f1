import { z } from 'zod';
import { hostNameSchema } from './hosts';

/**
 * The tasks a run can be given: the host's PostTrainBench checkout and the built-in rehearsal.
 * Spread into the one contract in `contract.ts`; import nothing from there (it imports this file).
 */

export const catalogTaskSchema = z.object({
  kind: z.enum(['ptb', 'rehearsal']),
  benchmark: z.string().optional(),
  displayName: z.string(),
  /** Keys the evaluator needs (LLM-graded benchmarks). */
  requiredApiKeys: z.array(z.string()).default([]),
});
export type CatalogTask = z.infer<typeof catalogTaskSchema>;

export const catalogCommands = {
  /** PostTrainBench tasks found in the host's checkout, plus the built-in rehearsal task. */
  'catalog.tasks': { input: z.object({ name: hostNameSchema }).strict(), output: z.array(catalogTaskSchema) },
} as const;
