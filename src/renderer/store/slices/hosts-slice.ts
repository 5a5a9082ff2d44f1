import type { HostSummary } from '../../../shared/contract';
import type { ContractClient } from '../../../shared/rpc/contract-client';
import { emptyList, listLoadFinished, listLoadStarted, type ListState } from '../list-state';
import type { SliceRead, SliceUpdate } from '../slice';

export interface HostsSlice extends ListState<HostSummary> {
  load(): Promise<void>;
}

export function createHostsSlice(
  client: ContractClient,
  update: SliceUpdate<HostsSlice>,
  read: SliceRead<HostsSlice>,
): HostsSlice {
  return {
    ...emptyList<HostSummary>(),
    async load() {
      update(listLoadStarted);
      const seq = read().requestSeq;
      const result = await client.call('hosts.list', {});
      update((hosts) => listLoadFinished(hosts, seq, result));
    },
  };
}
