import { z } from 'zod';

/**
 * The agents' and graders' API keys: which are set and where, and the OS keychain (never their values).
 * Spread into the one contract in `contract.ts`; import nothing from there (it imports this file).
 */

const secretName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'an environment-variable name such as ANTHROPIC_API_KEY');

export const secretsCommands = {
  /** Which agent keys are available and from where (never their values). */
  'secrets.status': {
    input: z.object({ names: z.array(secretName) }).strict(),
    output: z.object({
      writable: z.boolean(),
      secrets: z.array(z.object({ name: z.string(), source: z.enum(['environment', 'keychain']).nullable() })),
    }),
  },
  /** Stores a key in the OS keychain (desktop app only); the value is never sent back. */
  'secrets.set': {
    input: z.object({ name: secretName, value: z.string().min(1) }).strict(),
    output: z.object({ stored: z.boolean() }),
  },
  'secrets.delete': { input: z.object({ name: secretName }).strict(), output: z.object({ deleted: z.boolean() }) },
} as const;
