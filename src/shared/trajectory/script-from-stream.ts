import { MODEL_SCRIPT_FORMAT, modelScriptSchema, type ModelScript } from '../runs/model-script';
import { parseJsonLine, streamLines } from './stream-lines';

/**
 * A model script from a recorded Claude Code trace (`--output-format stream-json`, as PostTrainBench's
 * `solve_out.txt` holds it, timestamp prefixes and launcher lines allowed): each assistant turn of the trace (its
 * `assistant` events up to the next tool results) becomes a turn with its thinking, text and tool calls, so the real
 * CLI replays the recorded session in the sandbox (docs/model-script.md, "A script from a trace"). The tools run for
 * real, so a replay only goes as far as what the recorded commands do here.
 */

interface Draft {
  thinking: string[];
  text: string[];
  toolCalls: { name: string; input: Record<string, unknown> | string }[];
}

export function scriptFromClaudeStream(
  text: string,
  source = 'the trace',
): { ok: true; script: ModelScript } | { ok: false; error: string } {
  const turns: Draft[] = [];
  let open: Draft | null = null;
  let result: string | null = null;
  for (const line of streamLines(text)) {
    const parsed = parseJsonLine(line.text);
    if (!parsed.ok) continue;
    const event = parsed.value;
    if (event.type === 'user') {
      open = null; // tool results: the next assistant event starts a new turn
    } else if (event.type === 'result' && typeof event.result === 'string' && event.result.trim() !== '') {
      result = event.result;
    } else if (event.type === 'assistant') {
      const message = event.message as { content?: unknown } | undefined;
      const blocks = Array.isArray(message?.content) ? (message.content as Record<string, unknown>[]) : [];
      if (!open) turns.push((open = { thinking: [], text: [], toolCalls: [] }));
      for (const block of blocks) {
        if (block.type === 'thinking' && typeof block.thinking === 'string') open.thinking.push(block.thinking);
        else if (block.type === 'text' && typeof block.text === 'string') open.text.push(block.text);
        else if (block.type === 'tool_use' && typeof block.name === 'string') {
          const input = block.input && typeof block.input === 'object' ? (block.input as Record<string, unknown>) : {};
          open.toolCalls.push({ name: block.name, input });
        }
      }
    }
  }
  const script = {
    format: MODEL_SCRIPT_FORMAT,
    agent: 'claude-code' as const,
    description: `Replays the assistant turns of ${source}.`,
    turns: turns
      .map((t) => ({
        ...(t.thinking.length ? { thinking: t.thinking.join('\n\n') } : {}),
        ...(t.text.length ? { text: t.text.join('\n\n') } : {}),
        toolCalls: t.toolCalls,
      }))
      .filter((t) => t.text !== undefined || t.toolCalls.length > 0),
  };
  if (script.turns.length === 0) return { ok: false, error: `${source} holds no assistant turn of Claude Code` };
  // A trace cut off mid-run (the budget) ends on tool calls: end the replay with the result's words, or a stop.
  if ((script.turns.at(-1)?.toolCalls.length ?? 0) > 0) {
    script.turns.push({ text: result ?? 'The recorded trace ends here.', toolCalls: [] });
  }
  const checked = modelScriptSchema.safeParse(script);
  if (!checked.success) return { ok: false, error: `${source}: ${checked.error.issues[0]?.message ?? 'invalid'}` };
  return { ok: true, script: checked.data };
}
