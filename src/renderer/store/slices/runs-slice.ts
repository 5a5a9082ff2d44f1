import type { RunSummary } from '../../../shared/contract';
import type { ContractClient } from '../../../shared/rpc/contract-client';
import { emptyList, listLoadFinished, listLoadStarted, type ListState } from '../list-state';
import type { SliceRead, SliceUpdate } from '../slice';

export interface RunsSlice extends ListState<RunSummary> {
  load(): Promise<void>;
}

export function createRunsSlice(
  client: ContractClient,
  update: SliceUpdate<RunsSlice>,
  read: SliceRead<RunsSlice>,
): RunsSlice {
  return {
    ...emptyList<RunSummary>(),
    async load() {
      update(listLoadStarted);
      const seq = read().requestSeq;
      const result = await client.call('runs.list', {});
      update((runs) => listLoadFinished(runs, seq, result));
    },
  };
}
