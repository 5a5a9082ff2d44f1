import type { RunSummary } from '../../../../src/shared/contract';

/** A run summary with the contract's defaults, at epoch-ms times around T0. */
export const T0 = Date.parse('2026-11-23T12:00:00Z');
export const HOUR = 3_600_000;

export function runSummary(id: string, overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    id,
    label: id,
    host: 'gpu1',
    status: 'running',
    createdAt: new Date(T0).toISOString(),
    task: 'gsm8k · Qwen3-4B-Base',
    agent: 'claude-code · claude-opus-4-6',
    ...overrides,
  };
}
