import { vi } from 'vitest';
import type {
  CommandInput,
  CommandName,
  CommandOutput,
  EventName,
  EventPayload,
  HostSummary,
} from '../../../src/shared/contract';
import type { Result } from '../../../src/shared/errors';
import type { ContractClient } from '../../../src/shared/rpc/contract-client';
import type { WebSocketLike } from '../../../src/shared/rpc/websocket-client';

type Handlers = {
  [K in CommandName]?: (input: CommandInput<K>) => Promise<Result<CommandOutput<K>>> | Result<CommandOutput<K>>;
};

/** A contract client whose replies come from `handlers`; records subscriptions and their disposal. */
export function fakeClient(handlers: Handlers = {}) {
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const unsubscribes: Array<ReturnType<typeof vi.fn>> = [];
  const calls: Array<{ command: CommandName; input: unknown }> = [];
  const client: ContractClient = {
    async call<K extends CommandName>(command: K, input: CommandInput<K>): Promise<Result<CommandOutput<K>>> {
      calls.push({ command, input });
      const handler = handlers[command] as
        ((input: CommandInput<K>) => Promise<Result<CommandOutput<K>>> | Result<CommandOutput<K>>) | undefined;
      if (!handler)
        return { ok: false, error: { code: 'UNKNOWN_COMMAND', message: `no fake for ${command}`, retryable: false } };
      return handler(input);
    },
    on<K extends EventName>(event: K, listener: (payload: EventPayload<K>) => void) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      const wrapped = listener as (payload: unknown) => void;
      set.add(wrapped);
      const unsubscribe = vi.fn(() => set.delete(wrapped));
      unsubscribes.push(unsubscribe);
      return unsubscribe;
    },
  };
  return {
    client,
    calls,
    unsubscribes,
    emit<K extends EventName>(event: K, payload: EventPayload<K>) {
      for (const listener of listeners.get(event) ?? []) listener(payload);
    },
    listenerCount: (event: EventName) => listeners.get(event)?.size ?? 0,
  };
}

/** A promise with its resolve exposed, to control reply order. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

type SocketListener = (ev: never) => void;

/** A WebSocketLike driven by the test: `open()`, `serverSend()`, `serverClose()`. */
export class FakeSocket implements WebSocketLike {
  readyState = 0;
  readonly sent: string[] = [];
  readonly url: string;
  private readonly listeners = new Map<string, SocketListener[]>();

  constructor(url: string) {
    this.url = url;
  }

  addEventListener(type: string, listener: SocketListener): void {
    const list = this.listeners.get(type) ?? [];
    list.push(listener);
    this.listeners.set(type, list);
  }

  send(data: string): void {
    this.sent.push(data);
  }

  close(code = 1000, reason = ''): void {
    this.serverClose(code, reason);
  }

  open(): void {
    this.readyState = 1;
    this.fire('open', {});
  }

  serverSend(message: unknown): void {
    this.fire('message', { data: JSON.stringify(message) });
  }

  serverClose(code: number, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.fire('close', { code, reason });
  }

  private fire(type: string, ev: unknown): void {
    for (const listener of this.listeners.get(type) ?? []) (listener as (ev: unknown) => void)(ev);
  }
}

/** Lets pending promise callbacks run. */
export const flush = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** A host summary with the contract's defaults filled in. */
export function hostSummary(name: string, overrides: Partial<HostSummary> = {}): HostSummary {
  return {
    name,
    kind: 'ssh',
    address: `u@${name}`,
    jump: '',
    dockerSocket: '/var/run/docker.sock',
    runRoot: '~/posttrain-runs',
    identityFiles: [],
    requiredImages: [],
    ...overrides,
  };
}
