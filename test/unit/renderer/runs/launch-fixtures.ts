import type { PreflightReport } from '../../../../src/shared/hosts';
import {
  initialLaunchForm,
  taskOptions,
  type LaunchContext,
  type LaunchFormValues,
} from '../../../../src/renderer/runs/launch-form';
import { hostSummary } from '../fakes';

// The launch form's tests share one host with three GPUs (two free), its catalog, and a bare local host.

export const report: PreflightReport = {
  host: 'gpu1',
  startedAt: '2026-11-23T12:00:00Z',
  finishedAt: '2026-11-23T12:00:05Z',
  checks: [],
  gpus: [2, 0, 1].map((index) => ({
    index,
    name: 'NVIDIA H100 80GB HBM3',
    uuid: `GPU-${index}`,
    memoryTotalMiB: 81559,
    driverVersion: '550.54',
  })),
  freeGpus: [1, 2],
  overall: 'pass',
};

// As main lists it: the rehearsal first, then the checkout's benchmarks.
export const catalog = taskOptions([
  { kind: 'rehearsal', displayName: 'Rehearsal', requiredApiKeys: [] },
  { kind: 'ptb', benchmark: 'gsm8k', displayName: 'GSM8K', requiredApiKeys: [] },
  { kind: 'ptb', benchmark: 'arenahardwriting', displayName: 'Arena-Hard', requiredApiKeys: ['OPENAI_API_KEY'] },
]);

export const ctx: LaunchContext = {
  host: hostSummary('gpu1', { requiredImages: ['ghcr.io/lab/sandbox:1', 'ghcr.io/lab/eval:1'] }),
  report,
  tasks: catalog,
};
export const bare: LaunchContext = {
  host: hostSummary('local', { kind: 'local' }),
  report: null,
  tasks: taskOptions(null),
};

export const form = (overrides: Partial<LaunchFormValues> = {}): LaunchFormValues => ({
  ...initialLaunchForm('gpu1'),
  ...overrides,
});
