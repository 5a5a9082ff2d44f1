import { z } from 'zod';
import { asText, clip, num, oneLine, type LineContext, type StepBuilder, type StepDraft } from './step-builder';

/**
 * Codex CLI `exec --json`, in both shapes it has printed:
 *
 * - current: `thread.started`, `turn.started|completed|failed`, `item.started|updated|completed` with an item of
 *   type agent_message, reasoning, command_execution, file_change, mcp_tool_call, web_search, todo_list, error…,
 *   and a top-level `error` (openai/codex codex-rs/exec/src/exec_events.rs; real lines in the PostTrainBench run
 *   fixture, test/fixtures/posttrainbench/).
 * - older: `{"id": "...", "msg": {"type": ...}}` protocol events: agent_message, agent_reasoning,
 *   exec_command_begin/end (paired by call_id), patch_apply_begin/end, mcp_tool_call_begin/end, token_count, error,
 *   task_started/complete (openai/codex codex-rs/protocol/src/protocol.rs `EventMsg`).
 */

const itemSchema = z.looseObject({ id: z.string(), type: z.string() });

const newEventSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('thread.started'), thread_id: z.string().optional() }),
  z.looseObject({ type: z.literal('turn.started') }),
  z.looseObject({
    type: z.literal('turn.completed'),
    usage: z
      .looseObject({
        input_tokens: z.number().optional(),
        cached_input_tokens: z.number().optional(),
        output_tokens: z.number().optional(),
      })
      .optional(),
  }),
  z.looseObject({ type: z.literal('turn.failed'), error: z.looseObject({ message: z.string() }).optional() }),
  z.looseObject({ type: z.literal('item.started'), item: itemSchema }),
  z.looseObject({ type: z.literal('item.updated'), item: itemSchema }),
  z.looseObject({ type: z.literal('item.completed'), item: itemSchema }),
  z.looseObject({ type: z.literal('error'), message: z.string().optional() }),
]);

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A current-shape item as a step (every field optional: started items lack their results). */
function itemDraft(item: Record<string, unknown>): StepDraft {
  const type = String(item.type);
  const status = str(item.status);
  switch (type) {
    case 'agent_message':
    case 'plan': {
      const text = str(item.text) ?? '';
      return { kind: 'message', role: 'assistant', title: oneLine(text) || `(${type})`, text: clip(text) };
    }
    case 'reasoning': {
      const text = str(item.text) ?? '';
      return {
        kind: 'thinking',
        role: 'assistant',
        title: oneLine(text.replace(/\*\*/g, '')) || '(reasoning)',
        text: clip(text),
      };
    }
    case 'command_execution': {
      const command = str(item.command) ?? '';
      const exit = typeof item.exit_code === 'number' ? item.exit_code : null;
      const output = str(item.aggregated_output);
      return {
        kind: 'shell',
        title: `$ ${oneLine(command)}`,
        command,
        output: output === undefined || (status === 'in_progress' && output === '') ? null : clip(output),
        exitCode: exit,
        isError: status === 'failed' || (exit !== null && exit !== 0),
        ...(status ? { status } : {}),
      };
    }
    case 'file_change': {
      const changes = Array.isArray(item.changes) ? item.changes : [];
      const files = changes.map((c) => {
        const change = (c ?? {}) as Record<string, unknown>;
        return { path: str(change.path) ?? '?', action: str(change.kind) ?? 'change' };
      });
      return {
        kind: 'file',
        title: files.map((f) => `${f.action} ${f.path}`).join(', ') || 'file change',
        files,
        isError: status === 'failed',
        ...(status ? { status } : {}),
      };
    }
    case 'mcp_tool_call': {
      const name = `${str(item.server) ?? 'mcp'}.${str(item.tool) ?? '?'}`;
      const error = item.error as { message?: unknown } | null | undefined;
      return {
        kind: 'tool',
        title: name,
        toolName: name,
        input: item.arguments,
        output: item.result ? clip(asText(item.result)) : error ? String(error.message ?? '') : null,
        isError: Boolean(error) || status === 'failed',
        ...(status ? { status } : {}),
      };
    }
    case 'web_search': {
      const action = (item.action ?? {}) as Record<string, unknown>;
      const query = str(item.query) || str(action.query) || '';
      return {
        kind: 'tool',
        title: `web search${query ? `: ${oneLine(query, 120)}` : ''}`,
        toolName: 'web_search',
        input: { query, action },
      };
    }
    case 'todo_list': {
      const items = Array.isArray(item.items) ? (item.items as Array<Record<string, unknown>>) : [];
      const text = items.map((i) => `[${i.completed === true ? 'x' : ' '}] ${str(i.text) ?? ''}`).join('\n');
      const done = items.filter((i) => i.completed === true).length;
      return { kind: 'system', role: 'assistant', title: `plan: ${done}/${items.length} done`, text };
    }
    case 'error': {
      const message = str(item.message) ?? asText(item);
      return { kind: 'error', title: oneLine(message) || 'error', text: clip(message), isError: true };
    }
    default:
      return { kind: 'tool', title: type, toolName: type, input: item };
  }
}

/** Items that have a result to wait for (the rest are complete as soon as they appear). */
const CALL_ITEMS = new Set(['command_execution', 'mcp_tool_call', 'web_search', 'collab_tool_call', 'file_change']);

function handleNew(event: z.infer<typeof newEventSchema>, ctx: LineContext, b: StepBuilder): void {
  switch (event.type) {
    case 'thread.started':
      b.add(ctx, {
        kind: 'system',
        role: 'system',
        title: `thread started${event.thread_id ? ` · ${event.thread_id}` : ''}`,
      });
      return;
    case 'turn.started':
      // Bookkeeping only: the turn's items and its usage are the steps.
      return;
    case 'turn.completed': {
      const u = event.usage;
      const usage = {
        inputTokens: num(u?.input_tokens),
        cachedInputTokens: num(u?.cached_input_tokens),
        outputTokens: num(u?.output_tokens),
      };
      b.addUsage(usage);
      b.add(ctx, {
        kind: 'usage',
        role: 'system',
        title: `turn completed · ${usage.inputTokens.toLocaleString('en')} in (${usage.cachedInputTokens.toLocaleString('en')} cached) · ${usage.outputTokens.toLocaleString('en')} out`,
        usage,
      });
      return;
    }
    case 'turn.failed':
    case 'error': {
      const message = event.type === 'error' ? (event.message ?? '') : (event.error?.message ?? '');
      b.add(ctx, { kind: 'error', title: `${event.type}: ${oneLine(message)}`, text: clip(message), isError: true });
      return;
    }
    default: {
      const item = event.item;
      const draft = itemDraft(item);
      const done = event.type === 'item.completed';
      if (b.update(ctx, item.id, draft, done)) return;
      if (CALL_ITEMS.has(item.type) || !done) {
        // Opened here; an item that never completes stays `in_progress` (the agent was stopped mid-call).
        const step = b.openCall(ctx, item.id, draft);
        if (done) b.update(ctx, item.id, { status: draft.status ?? 'completed' }, true);
        else step.status = draft.status ?? 'in_progress';
        return;
      }
      b.add(ctx, draft);
    }
  }
}

// --- the older protocol-event shape -----------------------------------------------------------------------

const oldEventSchema = z.looseObject({ id: z.string().optional(), msg: z.looseObject({ type: z.string() }) });

function commandText(command: unknown): string {
  if (Array.isArray(command)) {
    const words = command.map(String);
    // `bash -lc "<script>"` is how Codex runs everything: show the script.
    if (words.length === 3 && /(^|\/)(ba)?sh$/.test(words[0]!) && words[1] === '-lc') return words[2]!;
    return words.join(' ');
  }
  return typeof command === 'string' ? command : '';
}

function handleOld(msg: Record<string, unknown>, ctx: LineContext, b: StepBuilder): boolean {
  const type = String(msg.type);
  const callId = str(msg.call_id);
  switch (type) {
    case 'agent_message': {
      const text = str(msg.message) ?? '';
      b.add(ctx, { kind: 'message', role: 'assistant', title: oneLine(text) || '(message)', text: clip(text) });
      return true;
    }
    case 'agent_reasoning':
    case 'agent_reasoning_raw_content': {
      const text = str(msg.text) ?? '';
      b.add(ctx, {
        kind: 'thinking',
        role: 'assistant',
        title: oneLine(text.replace(/\*\*/g, '')) || '(reasoning)',
        text: clip(text),
      });
      return true;
    }
    case 'exec_command_begin': {
      const command = commandText(msg.command);
      const draft: StepDraft = {
        kind: 'shell',
        title: `$ ${oneLine(command)}`,
        command,
        input: { command: msg.command, cwd: msg.cwd },
      };
      if (callId) b.openCall(ctx, callId, draft);
      else b.add(ctx, draft);
      return true;
    }
    case 'exec_command_end': {
      const aggregated = str(msg.aggregated_output);
      const output =
        aggregated && aggregated !== '' ? aggregated : [str(msg.stdout), str(msg.stderr)].filter(Boolean).join('\n');
      const exit = typeof msg.exit_code === 'number' ? msg.exit_code : null;
      const patch = {
        output: clip(output),
        exitCode: exit,
        isError: exit !== null && exit !== 0,
        status: exit === 0 ? 'completed' : 'failed',
      };
      if (!callId || !b.update(ctx, callId, patch, true)) {
        b.add(ctx, {
          kind: 'shell',
          title: `command ended (exit ${exit ?? '?'}), no matching start`,
          ...patch,
          ...(callId ? { toolId: callId } : {}),
        });
      }
      return true;
    }
    case 'patch_apply_begin': {
      const changes = (msg.changes ?? {}) as Record<string, unknown>;
      const files = Object.entries(changes).map(([path, change]) => {
        const c = (change ?? {}) as Record<string, unknown>;
        const action = str(c.type) ?? Object.keys(c)[0] ?? 'change';
        return { path, action };
      });
      const draft: StepDraft = {
        kind: 'file',
        title: files.map((f) => `${f.action} ${f.path}`).join(', ') || 'patch',
        files,
        input: changes,
      };
      if (callId) b.openCall(ctx, callId, draft);
      else b.add(ctx, draft);
      return true;
    }
    case 'patch_apply_end': {
      const ok = msg.success !== false;
      const output = [str(msg.stdout), str(msg.stderr)].filter(Boolean).join('\n');
      const patch = { output: clip(output), isError: !ok, status: ok ? 'completed' : 'failed' };
      if (!callId || !b.update(ctx, callId, patch, true))
        b.add(ctx, { kind: 'file', title: 'patch applied, no matching start', ...patch });
      return true;
    }
    case 'mcp_tool_call_begin': {
      const inv = (msg.invocation ?? {}) as Record<string, unknown>;
      const name = `${str(inv.server) ?? 'mcp'}.${str(inv.tool) ?? '?'}`;
      const draft: StepDraft = { kind: 'tool', title: name, toolName: name, input: inv.arguments };
      if (callId) b.openCall(ctx, callId, draft);
      else b.add(ctx, draft);
      return true;
    }
    case 'mcp_tool_call_end': {
      const result = msg.result as Record<string, unknown> | undefined;
      const isError = Boolean(result && ('Err' in result || result.is_error === true));
      const patch = { output: clip(asText(result)), isError, status: isError ? 'failed' : 'completed' };
      if (!callId || !b.update(ctx, callId, patch, true))
        b.add(ctx, { kind: 'tool', title: 'tool result, no matching call', ...patch });
      return true;
    }
    case 'web_search_begin':
      if (callId) b.openCall(ctx, callId, { kind: 'tool', title: 'web search', toolName: 'web_search' });
      return true;
    case 'web_search_end': {
      const query = str(msg.query) ?? '';
      if (
        !callId ||
        !b.update(
          ctx,
          callId,
          { title: `web search: ${oneLine(query, 120)}`, input: { query }, status: 'completed' },
          true,
        )
      ) {
        b.add(ctx, {
          kind: 'tool',
          title: `web search: ${oneLine(query, 120)}`,
          toolName: 'web_search',
          input: { query },
        });
      }
      return true;
    }
    case 'token_count': {
      // Older builds sent the turn's usage flat; later ones a cumulative `info.total_token_usage`.
      const info = msg.info as Record<string, unknown> | null | undefined;
      const total = (info?.total_token_usage ?? null) as Record<string, unknown> | null;
      if (total) {
        b.setFinalUsage({
          inputTokens: num(total.input_tokens),
          cachedInputTokens: num(total.cached_input_tokens),
          outputTokens: num(total.output_tokens),
        });
      } else if ('input_tokens' in msg) {
        b.addUsage({
          inputTokens: num(msg.input_tokens),
          cachedInputTokens: num(msg.cached_input_tokens),
          outputTokens: num(msg.output_tokens),
        });
      }
      return true;
    }
    case 'error':
    case 'stream_error': {
      const message = str(msg.message) ?? '';
      b.add(ctx, { kind: 'error', title: `${type}: ${oneLine(message)}`, text: clip(message), isError: true });
      return true;
    }
    case 'task_started':
    case 'session_configured':
    case 'task_complete':
    case 'turn_aborted': {
      const detail = str(msg.model) ?? str(msg.last_agent_message) ?? str(msg.reason) ?? '';
      b.add(ctx, {
        kind: 'system',
        role: 'system',
        title: `${type.replace(/_/g, ' ')}${detail ? ` · ${oneLine(detail, 100)}` : ''}`,
        text: asText(msg),
      });
      return true;
    }
    case 'agent_message_delta':
    case 'agent_reasoning_delta':
    case 'exec_command_output_delta':
    case 'agent_reasoning_section_break':
    case 'turn_diff':
    case 'background_event':
      // Streaming fragments of what a later event carries whole.
      return true;
    default:
      return false;
  }
}

export function createCodexHandler() {
  return (event: Record<string, unknown>, ctx: LineContext, b: StepBuilder): boolean => {
    if (typeof event.type === 'string') {
      const parsed = newEventSchema.safeParse(event);
      if (!parsed.success) return false;
      handleNew(parsed.data, ctx, b);
      return true;
    }
    const old = oldEventSchema.safeParse(event);
    if (old.success) return handleOld(old.data.msg, ctx, b);
    return false;
  };
}
