import type { WireResult } from './wire';

/**
 * What a renderer needs from a transport: invoke a named command, subscribe to a named event.
 * Implemented by the Electron preload bridge and by the WebSocket client; the contract client
 * validates everything that comes through it.
 */
export interface ClientTransport {
  invoke(command: string, input: unknown): Promise<WireResult>;
  subscribe(event: string, listener: (payload: unknown) => void): () => void;
}
