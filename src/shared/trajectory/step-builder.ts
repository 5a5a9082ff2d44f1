import type { AgentStep, StepTotals, StepUsage } from '../contract-trajectory';

/** A step before it gets its place in the list. */
export type StepDraft = Omit<AgentStep, 'index' | 'line' | 't'> & { t?: number | null };

/** Where the line being read sits, and its time from the prefix or the terminal recording. */
export interface LineContext {
  line: number;
  t: number | null;
}

const TEXT_LIMIT = 256 * 1024;

/** Long outputs (a vLLM log in one command result) are kept to their first 256 KiB in the view; the stream keeps all. */
export function clip(text: string): string {
  return text.length > TEXT_LIMIT
    ? `${text.slice(0, TEXT_LIMIT)}\n… (${text.length - TEXT_LIMIT} more characters in the stream)`
    : text;
}

/** First line of `text`, cut to `max` characters. */
export function oneLine(text: string, max = 160): string {
  const first = text.trim().split('\n', 1)[0] ?? '';
  return first.length > max ? `${first.slice(0, max - 1)}…` : first;
}

/**
 * Collects steps in stream order. Tool calls are opened by id and completed by their result, wherever it comes;
 * token and cost totals are either added per turn or replaced by a cumulative report, as each dialect reports them.
 */
export class StepBuilder {
  readonly steps: AgentStep[] = [];
  private readonly open = new Map<string, number>();
  private usage: StepUsage = { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0 };
  private cost: number | null = null;
  /** A final report (Claude's `result`) wins over what the turns added up to. */
  private finalUsage: StepUsage | null = null;
  private finalCost: number | null = null;

  add(ctx: LineContext, draft: StepDraft): AgentStep {
    const { t, ...rest } = draft;
    const step: AgentStep = { index: this.steps.length, line: ctx.line, t: t ?? ctx.t, ...rest };
    this.steps.push(step);
    return step;
  }

  /** Adds a call that a later line completes (by `id`). */
  openCall(ctx: LineContext, id: string, draft: StepDraft): AgentStep {
    const step = this.add(ctx, { status: 'in_progress', output: null, ...draft, toolId: id });
    this.open.set(id, step.index);
    return step;
  }

  /** The open call with this id, if any. */
  find(id: string): AgentStep | undefined {
    const index = this.open.get(id);
    return index === undefined ? undefined : this.steps[index];
  }

  /** Updates an open call; `done` closes it. Returns false when no call has that id. */
  update(ctx: LineContext, id: string, patch: Partial<StepDraft>, done: boolean): boolean {
    const index = this.open.get(id);
    if (index === undefined) return false;
    const step = this.steps[index]!;
    const { t: _t, ...rest } = patch;
    Object.assign(step, rest);
    if (ctx.line !== step.line) step.endLine = ctx.line;
    if (done) {
      this.open.delete(id);
      // Completion without a status of its own (a to-do list, a message item) still ends the call.
      if (step.status === 'in_progress' && rest.status === undefined) step.status = 'completed';
    }
    return true;
  }

  addUsage(usage: Partial<StepUsage>, costUsd?: number | null): void {
    this.usage = {
      inputTokens: this.usage.inputTokens + (usage.inputTokens ?? 0),
      cachedInputTokens: this.usage.cachedInputTokens + (usage.cachedInputTokens ?? 0),
      outputTokens: this.usage.outputTokens + (usage.outputTokens ?? 0),
    };
    if (typeof costUsd === 'number' && Number.isFinite(costUsd)) this.cost = (this.cost ?? 0) + costUsd;
  }

  /** A cumulative report (Codex's older token_count, Claude's result): replaces the running sum. */
  setFinalUsage(usage: StepUsage | null, costUsd?: number | null): void {
    if (usage) this.finalUsage = usage;
    if (typeof costUsd === 'number' && Number.isFinite(costUsd)) this.finalCost = costUsd;
  }

  totals(): StepTotals {
    const byKind: Record<string, number> = {};
    let toolCalls = 0;
    let unfinished = 0;
    for (const step of this.steps) {
      byKind[step.kind] = (byKind[step.kind] ?? 0) + 1;
      if (step.toolId !== undefined && (step.kind === 'tool' || step.kind === 'shell' || step.kind === 'file')) {
        toolCalls++;
        if (step.status === 'in_progress') unfinished++;
      }
    }
    const usage = this.finalUsage ?? this.usage;
    return {
      steps: this.steps.length,
      byKind,
      toolCalls,
      unfinishedCalls: unfinished,
      inputTokens: usage.inputTokens,
      cachedInputTokens: usage.cachedInputTokens,
      outputTokens: usage.outputTokens,
      costUsd: this.finalCost ?? this.cost,
      rawLines: byKind.raw ?? 0,
    };
  }
}

/** A value as display text: strings as they are, anything else as indented JSON. */
export function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

export function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
