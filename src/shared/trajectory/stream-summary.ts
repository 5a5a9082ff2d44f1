import { getAgent, isAgentId, STREAM_FORMATS, type StreamFormat } from '../runs/agent-catalog';
import { parseAgentStream } from './agent-steps';

/** What `ptw run show --json` says of a run's agent stream (issue 20): its dialect, steps, tool calls, unknown lines. */
export interface StreamSummary {
  dialect: string | null;
  steps: number;
  toolCalls: number;
  /** Lines no dialect explains (an event the parser does not know, broken JSON): 0 when the stream parsed whole. */
  unknownEvents: number;
}

/** The dialect a run's agent prints: the catalog's, or what a `custom` (or imported) agent's spec says. */
export function streamDialectOf(agent: { id: string; streamFormat?: unknown } | undefined): StreamFormat | null {
  if (!agent) return null;
  if (agent.id === 'custom' || !isAgentId(agent.id)) {
    return STREAM_FORMATS.includes(agent.streamFormat as StreamFormat) ? (agent.streamFormat as StreamFormat) : null;
  }
  return getAgent(agent.id).streamFormat;
}

export function summarizeStream(
  text: string,
  agent: { id: string; streamFormat?: unknown } | undefined,
): StreamSummary {
  const parsed = parseAgentStream(text, { dialect: streamDialectOf(agent) });
  return {
    dialect: parsed.dialect,
    steps: parsed.totals.steps,
    toolCalls: parsed.totals.toolCalls,
    unknownEvents: parsed.totals.rawLines,
  };
}
