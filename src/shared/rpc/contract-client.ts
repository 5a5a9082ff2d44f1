import {
  commands,
  events,
  isCommandName,
  type CommandInput,
  type CommandName,
  type CommandOutput,
  type EventName,
  type EventPayload,
} from '../contract';
import type { Result } from '../errors';
import type { ClientTransport } from './client-transport';
import { wireResultSchema } from './wire';

export interface ContractClient {
  call<K extends CommandName>(command: K, input: CommandInput<K>): Promise<Result<CommandOutput<K>>>;
  on<K extends EventName>(event: K, listener: (payload: EventPayload<K>) => void): () => void;
}

/** Typed, validating client over any {@link ClientTransport}. Never throws: failures come back as `ok: false`. */
export function createContractClient(
  transport: ClientTransport,
  options: { onInvalidEvent?: (event: string, problem: string) => void } = {},
): ContractClient {
  return {
    async call(command, input) {
      if (!isCommandName(command)) {
        return {
          ok: false,
          error: { code: 'UNKNOWN_COMMAND', message: `Unknown command ${String(command)}`, retryable: false },
        };
      }
      let raw: unknown;
      try {
        raw = await transport.invoke(command, input);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        return { ok: false, error: { code: 'TRANSPORT_CLOSED', message, retryable: true } };
      }
      const wire = wireResultSchema.safeParse(raw);
      if (!wire.success) {
        return { ok: false, error: { code: 'INTERNAL', message: `Malformed reply to ${command}`, retryable: false } };
      }
      if (!wire.data.ok) return wire.data;
      const parsed = commands[command].output.safeParse(wire.data.data);
      if (!parsed.success) {
        return {
          ok: false,
          error: {
            code: 'INTERNAL',
            message: `Reply to ${command} does not match the contract: ${parsed.error.message}`,
            retryable: false,
          },
        };
      }
      return { ok: true, data: parsed.data as CommandOutput<typeof command> };
    },
    on(event, listener) {
      const schema = events[event];
      return transport.subscribe(event, (payload) => {
        const parsed = schema.safeParse(payload);
        if (parsed.success) listener(parsed.data as EventPayload<typeof event>);
        else options.onInvalidEvent?.(event, parsed.error.message);
      });
    },
  };
}
