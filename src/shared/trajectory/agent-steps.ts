import type { AgentStep, StepTotals } from '../contract-trajectory';
import { createClaudeHandler } from './claude-steps';
import { createCodexHandler } from './codex-steps';
import { createGeminiHandler } from './gemini-steps';
import { createOpencodeHandler } from './opencode-steps';
import { clip, oneLine, StepBuilder, type LineContext } from './step-builder';
import { eventTime, parseJsonLine, streamLines, type StreamLine } from './stream-lines';

/**
 * An agent's JSON stream as steps (messages, thinking, tool calls with their results, shell commands, files
 * written, errors, usage). Every line becomes part of a step: a line no dialect explains (launcher text, an unknown
 * event, broken JSON) is a `raw` step with its line number and why, so nothing the agent printed is hidden.
 */

export type StreamDialect = 'claude-stream-json' | 'codex-exec-json' | 'gemini-stream-json' | 'opencode-json';

type Handler = (event: Record<string, unknown>, ctx: LineContext, b: StepBuilder) => boolean;

function handlerFor(dialect: StreamDialect): Handler {
  switch (dialect) {
    case 'claude-stream-json':
      return createClaudeHandler();
    case 'codex-exec-json':
      return createCodexHandler();
    case 'gemini-stream-json':
      return createGeminiHandler();
    case 'opencode-json':
      return createOpencodeHandler();
  }
}

/** Which dialect an event looks like, or null when it could be any. */
export function sniffDialect(event: Record<string, unknown>): StreamDialect | null {
  const type = event.type;
  if (type === undefined && event.msg && typeof event.msg === 'object') return 'codex-exec-json';
  // `gemini --output-format json`: one document with the answer and the stats.
  if (type === undefined && (typeof event.response === 'string' || (event.stats && typeof event.stats === 'object'))) {
    return 'gemini-stream-json';
  }
  if (typeof type !== 'string') return null;
  if (/^(thread|turn|item)\./.test(type)) return 'codex-exec-json';
  if ((type === 'assistant' || type === 'user') && event.message && typeof event.message === 'object') {
    return 'claude-stream-json';
  }
  if (type === 'system' && 'subtype' in event) return 'claude-stream-json';
  // Claude's result; Cursor's (`agent --output-format json|stream-json`) has no cost but a session and a duration.
  if (type === 'result' && ('total_cost_usd' in event || 'num_turns' in event)) return 'claude-stream-json';
  if (type === 'result' && 'session_id' in event && 'duration_ms' in event) return 'claude-stream-json';
  if (type === 'tool_call' && 'tool_call' in event) return 'claude-stream-json';
  if (type === 'rate_limit_event') return 'claude-stream-json';
  if (type === 'init' || type === 'tool_result' || (type === 'tool_use' && 'tool_name' in event)) {
    return 'gemini-stream-json';
  }
  if (type === 'message' && 'role' in event) return 'gemini-stream-json';
  if ((type === 'step_start' || type === 'step_finish' || type === 'text' || type === 'tool_use') && 'part' in event) {
    return 'opencode-json';
  }
  return null;
}

export interface ParsedAgentStream {
  /** The dialect used: the one given, else the one the first recognisable event showed; null when none did. */
  dialect: StreamDialect | null;
  steps: AgentStep[];
  totals: StepTotals;
}

export interface ParseOptions {
  /** From the run's agent (agent-catalog `streamFormat`); sniffed from the lines when absent or `none`. */
  dialect?: StreamDialect | 'none' | null;
  /**
   * Times (epoch ms) of the stream's lines from elsewhere, e.g. the terminal recording: `lineTimes(line)` for a
   * 1-based line number. A line's own prefix or timestamp wins.
   */
  lineTime?: (line: number) => number | null;
}

/** A whole file that is one JSON object written over several lines (a pretty-printed `--output-format json`). */
function singleDocument(lines: readonly StreamLine[], text: string): StreamLine[] | null {
  const filled = lines.filter((l) => l.text.trim() !== '');
  if (filled.length < 2 || filled[0]!.text.trim() !== '{' || text.length > 64 * 1024 * 1024) return null;
  const parsed = parseJsonLine(text.trim());
  if (!parsed.ok) return null;
  return [{ line: filled[0]!.line, text: JSON.stringify(parsed.value), t: filled[0]!.t }];
}

export function parseAgentStream(text: string, options: ParseOptions = {}): ParsedAgentStream {
  const split = streamLines(text);
  const lines = singleDocument(split, text) ?? split;
  let dialect: StreamDialect | null = options.dialect && options.dialect !== 'none' ? options.dialect : null;
  if (!dialect) {
    for (const line of lines) {
      const parsed = parseJsonLine(line.text);
      if (parsed.ok) dialect = sniffDialect(parsed.value);
      if (dialect) break;
    }
  }
  const handler = dialect ? handlerFor(dialect) : null;
  const b = new StepBuilder();
  for (const line of lines) {
    if (line.text.trim() === '') continue;
    const parsed = parseJsonLine(line.text);
    const own = line.t ?? (parsed.ok ? eventTime(parsed.value) : null);
    const ctx: LineContext = { line: line.line, t: own ?? options.lineTime?.(line.line) ?? null };
    if (parsed.ok) {
      let handled = false;
      try {
        handled = handler ? handler(parsed.value, ctx, b) : false;
      } catch (err) {
        // A dialect bug must not lose the line: it is shown raw with the reason.
        b.add(ctx, rawStep(line.text, `could not be read as ${dialect}: ${(err as Error).message}`));
        continue;
      }
      if (!handled) {
        const v = parsed.value;
        const inner = v.msg && typeof v.msg === 'object' ? (v.msg as Record<string, unknown>).type : undefined;
        const name = typeof v.type === 'string' ? v.type : typeof inner === 'string' ? inner : null;
        const what = name === null ? 'an event without a type' : `an event of type "${name.slice(0, 80)}"`;
        b.add(
          ctx,
          rawStep(
            line.text,
            dialect
              ? `${what}, which the ${dialect} format does not describe`
              : `${what}, which no known format describes`,
          ),
        );
      }
      continue;
    }
    b.add(ctx, rawStep(line.text, parsed.problem));
  }
  return { dialect, steps: b.steps, totals: b.totals() };
}

function rawStep(text: string, problem: string | null) {
  return {
    kind: 'raw' as const,
    title: oneLine(text, 200) || '(blank)',
    text: clip(text),
    ...(problem ? { problem } : {}),
  };
}
