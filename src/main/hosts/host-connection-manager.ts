import type { ConnectionState, HostProfile } from '../../shared/hosts';
import type { HostSession } from './host-exec-types';
import { type ConnectPrompts, HostConnection, type HostConnectionOptions, hopsOf } from './host-connection';

/**
 * What makes two profiles the same connection: where it goes, as whom, through which jumps, with
 * which keys, to which Docker socket. A change to any of these needs a fresh connection.
 */
export function connectionIdentity(profile: HostProfile): string {
  return JSON.stringify({
    hops: hopsOf(profile, ''),
    identityFiles: profile.identityFiles,
    dockerSocket: profile.dockerSocket,
  });
}

interface Entry {
  readonly connection: HostConnection;
  readonly identity: string;
  readonly unsubscribe: () => void;
}

/**
 * One HostConnection per host name, shared by everything that talks to that host. A profile whose
 * address (or keys, jumps, Docker socket) changed gets a new connection; the old one is disposed.
 */
export class HostConnectionManager {
  readonly #entries = new Map<string, Entry>();
  readonly #listeners = new Set<(hostName: string, state: ConnectionState) => void>();
  readonly #disposing = new Set<Promise<void>>();

  constructor(private readonly options: HostConnectionOptions) {}

  /** The host's connection (not necessarily connected). */
  get(profile: HostProfile): HostConnection {
    const identity = connectionIdentity(profile);
    const existing = this.#entries.get(profile.name);
    if (existing?.identity === identity) return existing.connection;
    if (existing) this.#retire(profile.name, existing, { announce: false });
    const connection = new HostConnection(profile, this.options);
    const unsubscribe = connection.onState((state) => this.#emit(profile.name, state));
    this.#entries.set(profile.name, { connection, identity, unsubscribe });
    return connection;
  }

  /** Connects (with these prompts, if it has to ask anything) and returns the host's session. */
  async open(profile: HostProfile, prompts?: Partial<ConnectPrompts>): Promise<HostSession> {
    const connection = this.get(profile);
    await connection.connect(prompts ? { prompts } : {});
    return connection.session();
  }

  state(hostName: string): ConnectionState | undefined {
    return this.#entries.get(hostName)?.connection.state;
  }

  onState(listener: (hostName: string, state: ConnectionState) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Disconnects and forgets one host (removed or edited). */
  async close(hostName: string): Promise<void> {
    const entry = this.#entries.get(hostName);
    if (entry) await this.#retire(hostName, entry, { announce: true });
  }

  async disposeAll(): Promise<void> {
    await Promise.all([...this.#entries].map(([name, entry]) => this.#retire(name, entry, { announce: true })));
    await Promise.all([...this.#disposing]);
    this.#listeners.clear();
  }

  #retire(hostName: string, entry: Entry, { announce }: { announce: boolean }): Promise<void> {
    this.#entries.delete(hostName);
    // A replaced connection's final "disconnected" must not overwrite its successor's state.
    if (!announce) entry.unsubscribe();
    const done = entry.connection.dispose().finally(() => {
      entry.unsubscribe();
      this.#disposing.delete(done);
    });
    this.#disposing.add(done);
    return done;
  }

  #emit(hostName: string, state: ConnectionState): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(hostName, state);
      } catch {
        // One listener's bug must not starve the others.
      }
    }
  }
}
