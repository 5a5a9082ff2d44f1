import type { CommandName } from '../../shared/contract';
import type { CommandHandlers } from './contract-router';

/**
 * What a feature folder hands the composition root (app-services.ts): the handlers of its commands (those of its
 * `src/shared/contract-<feature>.ts`), what it must do once the app runs and when it closes, and the services other
 * features are built on (as extra fields, e.g. `runs`). Each folder's `<feature>-feature.ts` exports one function
 * that returns it; the root only builds the shared infrastructure and lists these.
 */
export interface FeatureRegistration<K extends CommandName> {
  readonly handlers: Pick<CommandHandlers, K>;
  /** Background work (syncers, watchers), started by the app and `ptw serve`, not by a CLI command. */
  start?(): void;
  dispose?(): void | Promise<void>;
}

/** Any feature's registration, whatever commands it handles. */
export type AnyFeatureRegistration = FeatureRegistration<never>;

type HandledBy<F> = F extends FeatureRegistration<infer K> ? K : never;

/**
 * Every feature's handlers as one table for the router. The types refuse a list that leaves a command without a
 * handler; at run time a command two features both claim is refused too.
 */
export function featureHandlers<const F extends readonly AnyFeatureRegistration[]>(
  features: F & (Exclude<CommandName, HandledBy<F[number]>> extends never ? unknown : never),
): CommandHandlers {
  const table: Partial<Record<CommandName, unknown>> = {};
  for (const feature of features) {
    for (const [name, handler] of Object.entries(feature.handlers)) {
      if (name in table) throw new Error(`Two features register the command ${name}.`);
      table[name as CommandName] = handler;
    }
  }
  return table as CommandHandlers;
}
