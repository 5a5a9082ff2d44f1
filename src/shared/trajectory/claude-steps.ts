import { z } from 'zod';
import type { AgentStep } from '../contract-trajectory';
import { asText, clip, num, oneLine, type LineContext, type StepBuilder, type StepDraft } from './step-builder';

/**
 * Claude Code `--output-format stream-json --verbose`: `system` (init), `assistant` (a message whose content blocks
 * are text, thinking and tool_use), `user` (tool_result blocks, paired to tool_use by id), `result` (cost, usage).
 * Shapes from real CLI 2.1.7 output (test/fixtures/agent-streams/claude-code/, PROVENANCE.md) and Anthropic's
 * Messages API content blocks. Schemas are loose: unknown fields are ignored, unknown block types shown raw.
 */

/** Claude's snake_case usage, or Cursor's camelCase (`inputTokens`, `cacheReadTokens`…). */
const usageSchema = z.looseObject({
  input_tokens: z.number().optional(),
  output_tokens: z.number().optional(),
  cache_creation_input_tokens: z.number().nullable().optional(),
  cache_read_input_tokens: z.number().nullable().optional(),
  inputTokens: z.number().optional(),
  outputTokens: z.number().optional(),
  cacheReadTokens: z.number().nullable().optional(),
  cacheWriteTokens: z.number().nullable().optional(),
});

const blockSchema = z.looseObject({ type: z.string() });

const messageSchema = z.looseObject({
  id: z.string().optional(),
  model: z.string().optional(),
  content: z.union([z.string(), z.array(blockSchema)]),
  usage: usageSchema.nullable().optional(),
});

const eventSchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('system'),
    subtype: z.string().optional(),
    model: z.string().optional(),
    tools: z.array(z.unknown()).optional(),
    cwd: z.string().optional(),
  }),
  z.looseObject({ type: z.literal('assistant'), message: messageSchema }),
  z.looseObject({ type: z.literal('user'), message: messageSchema }),
  z.looseObject({
    type: z.literal('result'),
    subtype: z.string().optional(),
    is_error: z.boolean().optional(),
    num_turns: z.number().optional(),
    duration_ms: z.number().optional(),
    result: z.string().optional(),
    total_cost_usd: z.number().optional(),
    usage: usageSchema.optional(),
  }),
]);

function usageOf(u: z.infer<typeof usageSchema>) {
  const cacheRead = num(u.cache_read_input_tokens) + num(u.cacheReadTokens);
  return {
    inputTokens:
      num(u.input_tokens) +
      num(u.inputTokens) +
      num(u.cache_creation_input_tokens) +
      num(u.cacheWriteTokens) +
      cacheRead,
    cachedInputTokens: cacheRead,
    outputTokens: num(u.output_tokens) + num(u.outputTokens),
  };
}

// --- Cursor (`agent --print --output-format stream-json`): Claude's shapes plus `thinking` and `tool_call` events.

const cursorToolCallSchema = z.looseObject({
  type: z.literal('tool_call'),
  subtype: z.string().optional(),
  call_id: z.string().optional(),
  tool_call: z.record(z.string(), z.unknown()),
});

const CURSOR_FILE_TOOLS: Record<string, string> = { write: 'write', edit: 'edit', delete: 'delete' };

/** `{ shellToolCall: { args, result } }` → the tool's name (`shell`), its args and its result. */
function cursorTool(call: Record<string, unknown>): { name: string; args: Record<string, unknown>; result: unknown } {
  const [key, body] = Object.entries(call)[0] ?? ['tool', {}];
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const args = (b.args && typeof b.args === 'object' ? b.args : {}) as Record<string, unknown>;
  // `function` calls (MCP) carry their own name.
  const name = key === 'function' && typeof b.name === 'string' ? b.name : key.replace(/ToolCall$/, '');
  return { name, args, result: b.result };
}

function cursorCallDraft(name: string, args: Record<string, unknown>): StepDraft {
  if (name === 'shell' && typeof args.command === 'string') {
    return { kind: 'shell', title: `$ ${oneLine(args.command)}`, toolName: name, input: args, command: args.command };
  }
  const action = CURSOR_FILE_TOOLS[name];
  if (action && typeof args.path === 'string') {
    return {
      kind: 'file',
      title: `${name} ${args.path}`,
      toolName: name,
      input: args,
      files: [{ path: args.path, action }],
    };
  }
  const hint = ['path', 'pattern', 'query', 'url', 'globPattern']
    .map((k) => args[k])
    .find((v): v is string => typeof v === 'string');
  return { kind: 'tool', title: hint ? `${name}: ${oneLine(hint, 120)}` : name, toolName: name, input: args };
}

/** A Cursor tool result: `{ success: {…} }` or `{ error | failure | rejected: {…} }`. */
function cursorResult(result: unknown): Partial<StepDraft> {
  if (!result || typeof result !== 'object') return { output: asText(result) || null, status: 'completed' };
  const r = result as Record<string, unknown>;
  const success = r.success && typeof r.success === 'object' ? (r.success as Record<string, unknown>) : null;
  const body = success ?? r.error ?? r.failure ?? r.rejected ?? r;
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const exitCode = typeof b.exitCode === 'number' ? b.exitCode : null;
  const streams = [b.stdout, b.stderr].filter((x): x is string => typeof x === 'string' && x !== '');
  const output = clip(streams.length > 0 ? streams.join('\n') : asText(body));
  const isError = !success || (exitCode !== null && exitCode !== 0);
  return { output, isError, status: isError ? 'failed' : 'completed', ...(exitCode !== null ? { exitCode } : {}) };
}

const FILE_TOOLS: Record<string, string> = { Write: 'write', Edit: 'edit', MultiEdit: 'edit', NotebookEdit: 'edit' };

/** A tool_use block as a step: Bash is a shell command, Write/Edit a file written, anything else a tool call. */
export function toolUseDraft(name: string, input: unknown): StepDraft {
  const args = (input && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  if (name === 'Bash' && typeof args.command === 'string') {
    return { kind: 'shell', title: `$ ${oneLine(args.command)}`, toolName: name, input, command: args.command };
  }
  const fileAction = FILE_TOOLS[name];
  const path =
    typeof args.file_path === 'string'
      ? args.file_path
      : typeof args.notebook_path === 'string'
        ? args.notebook_path
        : null;
  if (fileAction && path) {
    return { kind: 'file', title: `${name} ${path}`, toolName: name, input, files: [{ path, action: fileAction }] };
  }
  const hint = ['command', 'pattern', 'file_path', 'path', 'url', 'query', 'description']
    .map((k) => args[k])
    .find((v): v is string => typeof v === 'string');
  return { kind: 'tool', title: hint ? `${name}: ${oneLine(hint, 120)}` : name, toolName: name, input };
}

function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => {
        const p = part as Record<string, unknown>;
        return p.type === 'text' && typeof p.text === 'string' ? p.text : asText(p);
      })
      .join('\n');
  }
  return asText(content);
}

/** Assistant usage is repeated on every line of one message: counted once per message id. */
export function createClaudeHandler() {
  const countedMessages = new Set<string>();
  /** Whether an assistant message was shown: a `result` after one repeats it; a result alone is the answer. */
  let answered = false;
  /** Cursor streams thinking as deltas: one step per phase, closed by `thinking/completed`. */
  let thinking: AgentStep | null = null;
  return (event: Record<string, unknown>, ctx: LineContext, b: StepBuilder): boolean => {
    if (event.type === 'thinking') {
      const delta = typeof event.text === 'string' ? event.text : '';
      if (event.subtype === 'completed') {
        if (thinking && ctx.line !== thinking.line) thinking.endLine = ctx.line;
        thinking = null;
        return true;
      }
      if (!thinking) {
        thinking = b.add(ctx, { kind: 'thinking', role: 'assistant', title: '(thinking)', text: '' });
      }
      thinking.text = clip(`${thinking.text ?? ''}${delta}`);
      thinking.title = oneLine(thinking.text) || '(thinking)';
      if (ctx.line !== thinking.line) thinking.endLine = ctx.line;
      return true;
    }
    // Any other event ends a thinking phase that was never marked completed.
    thinking = null;
    if (event.type === 'tool_call') {
      const call = cursorToolCallSchema.safeParse(event);
      if (!call.success) return false;
      const { name, args, result } = cursorTool(call.data.tool_call);
      const id = call.data.call_id ?? `${ctx.line}`;
      if (call.data.subtype === 'completed') {
        const patch = cursorResult(result);
        if (!b.update(ctx, id, patch, true)) {
          b.add(ctx, {
            ...cursorCallDraft(name, args),
            ...patch,
            toolId: id,
            title: `result of ${name} (no matching call)`,
          });
        }
      } else {
        b.openCall(ctx, id, { role: 'assistant', ...cursorCallDraft(name, args) });
      }
      return true;
    }
    if (event.type === 'rate_limit_event') {
      // Claude Code reports its subscription's rate-limit window as it goes.
      const info = (event.rate_limit_info ?? {}) as Record<string, unknown>;
      const status = typeof info.status === 'string' ? info.status : 'reported';
      const kind = typeof info.rateLimitType === 'string' ? ` (${info.rateLimitType})` : '';
      const resets = typeof info.resetsAt === 'number' && Number.isFinite(info.resetsAt) ? info.resetsAt : null;
      const at = resets === null ? '' : ` · resets ${new Date(resets < 1e12 ? resets * 1000 : resets).toISOString()}`;
      b.add(ctx, { kind: 'system', role: 'system', title: `rate limit: ${status}${kind}${at}`, text: asText(event) });
      return true;
    }
    const parsed = eventSchema.safeParse(event);
    if (!parsed.success) return false;
    const e = parsed.data;
    switch (e.type) {
      case 'system': {
        const tools = e.tools ? ` · ${e.tools.length} tools` : '';
        b.add(ctx, {
          kind: 'system',
          role: 'system',
          title: `${e.subtype ?? 'system'}${e.model ? ` · ${e.model}` : ''}${tools}`,
          text: asText(event),
        });
        return true;
      }
      case 'assistant':
      case 'user': {
        const role = e.type;
        const m = e.message;
        if (role === 'assistant' && m.usage && !(m.id && countedMessages.has(m.id))) {
          if (m.id) countedMessages.add(m.id);
          b.addUsage(usageOf(m.usage));
        }
        if (typeof m.content === 'string') {
          if (role === 'assistant') answered = true;
          b.add(ctx, { kind: 'message', role, title: oneLine(m.content) || '(empty message)', text: clip(m.content) });
          return true;
        }
        for (const block of m.content) {
          const blk = block as Record<string, unknown>;
          if (block.type === 'text' && typeof blk.text === 'string') {
            if (role === 'assistant') answered = true;
            b.add(ctx, { kind: 'message', role, title: oneLine(blk.text) || '(empty message)', text: clip(blk.text) });
          } else if (block.type === 'thinking' || block.type === 'redacted_thinking') {
            const text = typeof blk.thinking === 'string' ? blk.thinking : '(redacted thinking)';
            b.add(ctx, { kind: 'thinking', role, title: oneLine(text) || '(thinking)', text: clip(text) });
          } else if (block.type === 'tool_use' && typeof blk.id === 'string' && typeof blk.name === 'string') {
            b.openCall(ctx, blk.id, { role, ...toolUseDraft(blk.name, blk.input) });
          } else if (block.type === 'tool_result' && typeof blk.tool_use_id === 'string') {
            const output = clip(resultText(blk.content));
            const isError = blk.is_error === true;
            const done = b.update(
              ctx,
              blk.tool_use_id,
              { output, isError, status: isError ? 'failed' : 'completed' },
              true,
            );
            if (!done) {
              b.add(ctx, {
                kind: 'tool',
                role,
                title: `result of ${blk.tool_use_id} (no matching call)`,
                toolId: blk.tool_use_id,
                output,
                isError,
                status: isError ? 'failed' : 'completed',
              });
            }
          } else {
            b.add(ctx, {
              kind: 'raw',
              role,
              title: `${role} block "${block.type}"`,
              text: clip(asText(block)),
              problem: `unknown content block type "${block.type}"`,
            });
          }
        }
        return true;
      }
      case 'result': {
        // `--output-format json` prints only this event: its `result` is the agent's final answer, shown as such.
        if (!answered && typeof e.result === 'string' && e.result.trim() !== '' && !e.is_error) {
          b.add(ctx, { kind: 'message', role: 'assistant', title: oneLine(e.result), text: clip(e.result) });
          answered = true;
        }
        const usage = e.usage ? usageOf(e.usage) : null;
        b.setFinalUsage(usage, e.total_cost_usd);
        const cost = typeof e.total_cost_usd === 'number' ? ` · $${e.total_cost_usd.toFixed(4)}` : '';
        const turns = typeof e.num_turns === 'number' ? ` · ${e.num_turns} turns` : '';
        b.add(ctx, {
          kind: e.is_error ? 'error' : 'usage',
          role: 'system',
          title: `finished: ${e.subtype ?? 'result'}${turns}${cost}`,
          text: e.result === undefined ? undefined : clip(e.result),
          isError: e.is_error,
          ...(usage ? { usage } : {}),
          ...(typeof e.total_cost_usd === 'number' ? { costUsd: e.total_cost_usd } : {}),
        });
        return true;
      }
    }
  };
}
