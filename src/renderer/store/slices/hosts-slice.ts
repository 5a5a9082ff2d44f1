import type { CommandInput, EventPayload, HostSummary, SshConfigPreview } from '../../../shared/contract';
import type { SetupReport } from '../../../shared/contract-host-setup';
import { SETUP_STEPS } from '../../../shared/contract-host-setup';
import type { AppErrorData, Result } from '../../../shared/errors';
import type { ConnectionState, PreflightCheck, PreflightReport } from '../../../shared/hosts';
import type { ContractClient } from '../../../shared/rpc/contract-client';
import { sortHostsByName } from '../../common/host-order';
import {
  emptyPreflightRun,
  lastCheckReceived,
  preflightFinished,
  preflightProgressReceived,
  preflightStarted,
  stalePreflights,
  type PreflightRun,
} from '../../common/preflight-run';
import {
  emptySetupRun,
  setupFinished,
  setupProgressReceived,
  setupStarted,
  type SetupRun,
} from '../../common/setup-run';
import { emptyList, listReplaced, loadList, withEntry, type ListState } from '../list-state';
import type { SliceRead, SliceUpdate } from '../slice';

/** What the right-hand pane shows: the selected host, the add form, or the ssh_config import. */
export type HostsPane = 'detail' | 'add' | 'import';

/** A command on one host that is waiting for its reply (preflight is tracked in `preflight`). */
export type HostAction = 'connect' | 'disconnect' | 'remove';

/** The last failed command on a host, shown in its detail pane until the next command or a good connection. */
export interface HostProblem {
  /** What was being done, e.g. "Connecting". */
  readonly action: string;
  readonly error: AppErrorData;
}

export interface HostsData extends ListState<HostSummary> {
  /** The host the user picked; null (or a removed name) falls back to the first in the list. */
  readonly selected: string | null;
  readonly pane: HostsPane;
  // Maps, not records: a host may be called `constructor`, which a plain object already has.
  readonly preflight: ReadonlyMap<string, PreflightRun>;
  readonly pending: ReadonlyMap<string, HostAction>;
  readonly problems: ReadonlyMap<string, HostProblem>;
  readonly setup: ReadonlyMap<string, SetupRun>;
}

export interface HostsSlice extends HostsData {
  load(): Promise<void>;
  /** Applies a `hosts.changed` event (the full list, with live state and last check). */
  receive(hosts: HostSummary[]): void;
  /** Applies a `hosts.preflightProgress` event. */
  receiveProgress(name: string, check: PreflightCheck): void;
  select(name: string): void;
  showPane(pane: HostsPane): void;
  /** Loads the last preflight for a host unless it is already known or on its way. */
  ensureLastCheck(name: string): void;
  add(input: CommandInput<'hosts.add'>): Promise<Result<HostSummary>>;
  remove(name: string): Promise<void>;
  connect(name: string): Promise<void>;
  disconnect(name: string): Promise<void>;
  runPreflight(name: string): Promise<void>;
  /** Runs `hosts.setup`; `hosts.setupProgress` events update it while it runs. */
  runSetup(input: CommandInput<'hosts.setup'>): Promise<void>;
  receiveSetupProgress(event: EventPayload<'hosts.setupProgress'>): void;
  previewSshConfig(file?: string): Promise<Result<SshConfigPreview>>;
  importSshConfig(file: string | undefined, aliases: string[]): Promise<Result<HostSummary[]>>;
}

export function emptyHosts(): HostsData {
  return {
    ...emptyList<HostSummary>(),
    selected: null,
    pane: 'detail',
    preflight: new Map(),
    pending: new Map(),
    problems: new Map(),
    setup: new Map(),
  };
}

export function setupOf(state: HostsData, name: string): SetupRun {
  return state.setup.get(name) ?? emptySetupRun;
}

/** The host the detail pane shows. */
export function selectedHost(state: HostsData): HostSummary | null {
  const chosen = state.items.find((h) => h.name === state.selected);
  return chosen ?? sortHostsByName(state.items)[0] ?? null;
}

export function preflightOf(state: HostsData, name: string): PreflightRun {
  return state.preflight.get(name) ?? emptyPreflightRun;
}

/** A `hosts.changed` list. A host that is connected again no longer needs its old failure shown. */
export function hostsReceived<S extends HostsData>(state: S, hosts: readonly HostSummary[]): S {
  let problems = state.problems;
  for (const host of hosts) {
    if (host.state?.status === 'connected' && problems.has(host.name))
      problems = withEntry(problems, host.name, undefined);
  }
  return { ...listReplaced(state, hosts), problems };
}

export function hostSelected<S extends HostsData>(state: S, name: string): S {
  return { ...state, selected: name, pane: 'detail' };
}

export function paneShown<S extends HostsData>(state: S, pane: HostsPane): S {
  return { ...state, pane };
}

export function hostActionStarted<S extends HostsData>(state: S, name: string, action: HostAction): S {
  return {
    ...state,
    pending: withEntry(state.pending, name, action),
    problems: withEntry(state.problems, name, undefined),
  };
}

export function hostActionFinished<S extends HostsData>(state: S, name: string, problem: HostProblem | null): S {
  return {
    ...state,
    pending: withEntry(state.pending, name, undefined),
    problems: problem ? withEntry(state.problems, name, problem) : state.problems,
  };
}

/**
 * The state a connect/disconnect reply carries. Events may have brought a newer one meanwhile, so the
 * reply only wins if it is at least as recent (`since`).
 */
export function connectionStateApplied<S extends HostsData>(state: S, name: string, connection: ConnectionState): S {
  const items = state.items.map((host) => {
    if (host.name !== name) return host;
    const held = host.state ? Date.parse(host.state.since) : Number.NEGATIVE_INFINITY;
    const incoming = Date.parse(connection.since);
    if (!Number.isNaN(held) && !Number.isNaN(incoming) && incoming < held) return host;
    return { ...host, state: connection };
  });
  return { ...state, items };
}

/** A host added or replaced from this window: in the list at once (the event follows) and selected. */
export function hostsUpserted<S extends HostsData>(state: S, added: readonly HostSummary[]): S {
  const names = new Set(added.map((h) => h.name));
  const items = [...state.items.filter((h) => !names.has(h.name)), ...added];
  const first = added[0];
  return { ...state, items, pane: 'detail', selected: first ? first.name : state.selected };
}

export function hostRemoved<S extends HostsData>(state: S, name: string): S {
  return {
    ...state,
    items: state.items.filter((h) => h.name !== name),
    selected: state.selected === name ? null : state.selected,
    preflight: withEntry(state.preflight, name, undefined),
    pending: withEntry(state.pending, name, undefined),
    problems: withEntry(state.problems, name, undefined),
  };
}

export function preflightChanged<S extends HostsData>(
  state: S,
  name: string,
  change: (run: PreflightRun) => PreflightRun,
): S {
  return { ...state, preflight: withEntry(state.preflight, name, change(preflightOf(state, name))) };
}

export function createHostsSlice(
  client: ContractClient,
  update: SliceUpdate<HostsSlice>,
  read: SliceRead<HostsSlice>,
): HostsSlice {
  // Requests in flight that must not be sent twice; not state, nothing renders from them.
  const lastCheckLoads = new Set<string>();

  const loadLastCheck = async (name: string): Promise<void> => {
    if (lastCheckLoads.has(name)) return;
    lastCheckLoads.add(name);
    try {
      const result = await client.call('hosts.lastCheck', { name });
      // A failed load (host just removed, main not ready) leaves the pane as it was; the next select retries.
      if (result.ok) update((hosts) => preflightChanged(hosts, name, (run) => lastCheckReceived(run, result.data)));
    } finally {
      lastCheckLoads.delete(name);
    }
  };

  const act = async (
    name: string,
    action: HostAction,
    label: string,
    call: () => Promise<Result<ConnectionState>>,
  ): Promise<void> => {
    update((hosts) => hostActionStarted(hosts, name, action));
    const result = await call();
    update((hosts) => {
      const applied = result.ok ? connectionStateApplied(hosts, name, result.data) : hosts;
      return hostActionFinished(applied, name, result.ok ? null : { action: label, error: result.error });
    });
  };

  return {
    ...emptyHosts(),
    async load() {
      await loadList(update, read, () => client.call('hosts.list', {}));
    },
    receive(list) {
      update((hosts) => hostsReceived(hosts, list));
      for (const name of stalePreflights(read().preflight, list)) void loadLastCheck(name);
    },
    receiveProgress(name, check) {
      update((hosts) => preflightChanged(hosts, name, (run) => preflightProgressReceived(run, check)));
    },
    select: (name) => update((hosts) => hostSelected(hosts, name)),
    showPane: (pane) => update((hosts) => paneShown(hosts, pane)),
    ensureLastCheck(name) {
      const run = read().preflight.get(name);
      if (run?.loaded || run?.running) return;
      void loadLastCheck(name);
    },
    async add(input) {
      const result = await client.call('hosts.add', input);
      if (result.ok) update((hosts) => hostsUpserted(hosts, [result.data]));
      return result;
    },
    async remove(name) {
      update((hosts) => hostActionStarted(hosts, name, 'remove'));
      const result = await client.call('hosts.remove', { name });
      update((hosts) =>
        result.ok
          ? hostRemoved(hosts, name)
          : hostActionFinished(hosts, name, { action: 'Removing the host', error: result.error }),
      );
    },
    connect: (name) => act(name, 'connect', 'Connecting', () => client.call('hosts.connect', { name })),
    disconnect: (name) => act(name, 'disconnect', 'Disconnecting', () => client.call('hosts.disconnect', { name })),
    async runPreflight(name) {
      update((hosts) => ({
        ...preflightChanged(hosts, name, preflightStarted),
        problems: withEntry(hosts.problems, name, undefined),
      }));
      const result: Result<PreflightReport> = await client.call('hosts.check', { name });
      update((hosts) => {
        const finished = preflightChanged(hosts, name, (run) => preflightFinished(run, result));
        return result.ok
          ? finished
          : { ...finished, problems: withEntry(finished.problems, name, { action: 'Preflight', error: result.error }) };
      });
    },
    async runSetup(input) {
      update((hosts) => ({
        ...hosts,
        setup: withEntry(hosts.setup, input.name, setupStarted(input.steps ?? [...SETUP_STEPS])),
      }));
      const result: Result<SetupReport> = await client.call('hosts.setup', input);
      update((hosts) => ({
        ...hosts,
        setup: withEntry(hosts.setup, input.name, setupFinished(setupOf(hosts, input.name), result)),
      }));
      // The profile may have a new checkout or image: the list shows it.
      if (result.ok) void read().load();
    },
    receiveSetupProgress(event) {
      const run = read().setup.get(event.name);
      if (!run?.running) return;
      update((hosts) => ({ ...hosts, setup: withEntry(hosts.setup, event.name, setupProgressReceived(run, event)) }));
    },
    previewSshConfig: (file) => client.call('hosts.previewSshConfig', file === undefined ? {} : { file }),
    async importSshConfig(file, aliases) {
      const result = await client.call('hosts.importSshConfig', { ...(file === undefined ? {} : { file }), aliases });
      if (result.ok) update((hosts) => hostsUpserted(hosts, result.data));
      return result;
    },
  };
}
