import type { z } from 'zod';
import { commands, events, isCommandName } from '../../shared/contract';
import type { CommandInput, CommandName, CommandOutput, EventName, EventPayload } from '../../shared/contract';
import { AppError, toErrorData } from '../../shared/errors';
import type { WireResult } from '../../shared/rpc/wire';

/** Who is calling: transports fill this in so handlers can, e.g., send events to one window only. */
export interface CallContext {
  readonly peerId: string;
  readonly transport: 'ipc' | 'websocket' | 'cli';
}

type ParsedInput<K extends CommandName> = z.output<(typeof commands)[K]['input']>;

export type CommandHandlers = {
  [K in CommandName]: (input: ParsedInput<K>, ctx: CallContext) => Promise<CommandOutput<K>> | CommandOutput<K>;
};

/**
 * Validates every input against the contract, runs the handler, validates its output, and turns any
 * failure into a typed error. Both transports go through {@link ContractRouter.invoke}; nothing throws out of it.
 */
export class ContractRouter {
  constructor(private readonly handlers: CommandHandlers) {}

  async invoke(command: unknown, input: unknown, ctx: CallContext): Promise<WireResult> {
    if (!isCommandName(command)) {
      return {
        ok: false,
        error: { code: 'UNKNOWN_COMMAND', message: `Unknown command: ${String(command)}`, retryable: false },
      };
    }
    const spec = commands[command];
    const parsed = spec.input.safeParse(input ?? {});
    if (!parsed.success) {
      return {
        ok: false,
        error: {
          code: 'INVALID_INPUT',
          message: `Invalid input for ${command}: ${formatIssues(parsed.error.issues)}`,
          retryable: false,
        },
      };
    }
    try {
      const handler = this.handlers[command] as (input: unknown, ctx: CallContext) => unknown;
      const output = await handler(parsed.data, ctx);
      const checked = spec.output.safeParse(output);
      if (!checked.success) {
        throw new AppError(
          'INTERNAL',
          `Handler for ${command} returned data outside the contract: ${formatIssues(checked.error.issues)}`,
        );
      }
      return { ok: true, data: checked.data };
    } catch (err) {
      return { ok: false, error: toErrorData(err) };
    }
  }

  /** Direct typed call for in-process users (the CLI), with the same validation as the transports. */
  async call<K extends CommandName>(command: K, input: CommandInput<K>, ctx: CallContext): Promise<CommandOutput<K>> {
    const result = await this.invoke(command, input, ctx);
    if (!result.ok) throw new AppError(result.error.code, result.error.message, { retryable: result.error.retryable });
    return result.data as CommandOutput<K>;
  }
}

function formatIssues(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues.map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message)).join('; ');
}

export type EventSink = (event: EventName, payload: unknown) => void;

interface Peer {
  readonly sink: EventSink;
  readonly gone: Set<() => void>;
}

/**
 * Fan-out of contract events to every connected peer (each Electron window, each WebSocket), and delivery to one
 * peer (the `CallContext.peerId` of a call) for events that belong to it alone, such as a live stream it opened.
 */
export class EventHub {
  private readonly sinks = new Set<EventSink>();
  private readonly listeners = new Set<EventSink>();
  private readonly peers = new Map<string, Peer>();

  /**
   * A listener inside main (a service reacting to `runs.changed`): it gets every broadcast but is no peer, so it
   * never counts as a window or browser watching (`peerCount`: prompts, live monitoring). Returns its dispose.
   */
  listen(sink: EventSink): () => void {
    this.listeners.add(sink);
    return () => {
      this.listeners.delete(sink);
    };
  }

  /** Registers a peer for broadcasts (and, with `peerId`, for {@link emitTo}); returns its dispose. */
  attach(sink: EventSink, peerId?: string): () => void {
    this.sinks.add(sink);
    const detachPeer = peerId === undefined ? undefined : this.attachPeer(peerId, sink);
    return () => {
      this.sinks.delete(sink);
      detachPeer?.();
    };
  }

  /**
   * Makes a peer addressable by {@link emitTo} without adding it to broadcasts (the Electron transport broadcasts
   * through one sink for all windows). Its dispose tells the peer's {@link onPeerGone} listeners.
   */
  attachPeer(peerId: string, sink: EventSink): () => void {
    const previous = this.peers.get(peerId);
    const peer: Peer = { sink, gone: previous?.gone ?? new Set() };
    this.peers.set(peerId, peer);
    return () => {
      if (this.peers.get(peerId) !== peer) return;
      this.peers.delete(peerId);
      for (const listener of [...peer.gone]) listener();
      peer.gone.clear();
    };
  }

  hasPeer(peerId: string): boolean {
    return this.peers.has(peerId);
  }

  /** Called once when the peer goes away (a window closes, a WebSocket drops); at once if it is not attached. */
  onPeerGone(peerId: string, listener: () => void): () => void {
    const peer = this.peers.get(peerId);
    if (!peer) {
      queueMicrotask(listener);
      return () => undefined;
    }
    peer.gone.add(listener);
    return () => {
      peer.gone.delete(listener);
    };
  }

  get peerCount(): number {
    return this.sinks.size;
  }

  emit<K extends EventName>(event: K, payload: EventPayload<K>): void {
    // Validate on the way out so a service bug shows up here, not as a silently dropped event in the renderer.
    const checked = events[event].parse(payload);
    for (const sink of this.sinks) sink(event, checked);
    for (const listener of this.listeners) listener(event, checked);
  }

  /** Sends an event to one peer only; false when that peer is gone. */
  emitTo<K extends EventName>(peerId: string, event: K, payload: EventPayload<K>): boolean {
    const peer = this.peers.get(peerId);
    if (!peer) return false;
    peer.sink(event, events[event].parse(payload));
    return true;
  }
}
