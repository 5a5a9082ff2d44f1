import { z } from 'zod';
import { asText, clip, num, oneLine, type LineContext, type StepBuilder, type StepDraft } from './step-builder';

/**
 * OpenCode `run --format json`: one line per finished part, `{type, timestamp (epoch ms), sessionID, part}` with
 * type `step_start`, `text`, `reasoning`, `tool_use` (a tool part whose `state` holds input, output, status and
 * metadata: one line per call, already complete), `step_finish` (reason, cost, tokens) and `error`. Shapes from
 * sst/opencode packages/opencode/src/cli/cmd/run.ts (`emit`) and its message part types.
 */

const partSchema = z.looseObject({ type: z.string().optional() });

const eventSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('step_start'), timestamp: z.number().optional(), part: partSchema.optional() }),
  z.looseObject({
    type: z.literal('text'),
    timestamp: z.number().optional(),
    part: z.looseObject({ text: z.string() }),
  }),
  z.looseObject({
    type: z.literal('reasoning'),
    timestamp: z.number().optional(),
    part: z.looseObject({ text: z.string() }),
  }),
  z.looseObject({
    type: z.literal('tool_use'),
    timestamp: z.number().optional(),
    part: z.looseObject({
      tool: z.string(),
      callID: z.string().optional(),
      state: z.looseObject({
        status: z.string().optional(),
        input: z.unknown().optional(),
        output: z.unknown().optional(),
        error: z.unknown().optional(),
        title: z.string().optional(),
        metadata: z.record(z.string(), z.unknown()).optional(),
      }),
    }),
  }),
  z.looseObject({
    type: z.literal('step_finish'),
    timestamp: z.number().optional(),
    part: z.looseObject({
      reason: z.string().optional(),
      cost: z.number().optional(),
      tokens: z
        .looseObject({
          input: z.number().optional(),
          output: z.number().optional(),
          reasoning: z.number().optional(),
          cache: z.looseObject({ read: z.number().optional(), write: z.number().optional() }).optional(),
        })
        .optional(),
    }),
  }),
  z.looseObject({ type: z.literal('error'), timestamp: z.number().optional(), error: z.unknown() }),
]);

const FILE_TOOLS: Record<string, string> = { write: 'write', edit: 'edit', patch: 'edit' };

function toolDraft(tool: string, input: unknown): StepDraft {
  const args = (input && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  if (tool === 'bash' && typeof args.command === 'string') {
    return { kind: 'shell', title: `$ ${oneLine(args.command)}`, toolName: tool, input, command: args.command };
  }
  const path = typeof args.filePath === 'string' ? args.filePath : null;
  const action = FILE_TOOLS[tool];
  if (action && path)
    return { kind: 'file', title: `${tool} ${path}`, toolName: tool, input, files: [{ path, action }] };
  const hint = ['command', 'filePath', 'path', 'pattern', 'url', 'query', 'description']
    .map((k) => args[k])
    .find((v): v is string => typeof v === 'string');
  return { kind: 'tool', title: hint ? `${tool}: ${oneLine(hint, 120)}` : tool, toolName: tool, input };
}

function errorMessage(error: unknown): string {
  const e = (error ?? {}) as Record<string, unknown>;
  const data = (e.data ?? {}) as Record<string, unknown>;
  if (typeof data.message === 'string') return data.message;
  if (typeof e.message === 'string') return e.message;
  if (typeof e.name === 'string') return e.name;
  return asText(error);
}

export function createOpencodeHandler() {
  return (event: Record<string, unknown>, ctx: LineContext, b: StepBuilder): boolean => {
    const parsed = eventSchema.safeParse(event);
    if (!parsed.success) return false;
    const e = parsed.data;
    const at = { ...ctx, t: ctx.t ?? (typeof e.timestamp === 'number' ? e.timestamp : null) };
    switch (e.type) {
      case 'step_start':
        // Bookkeeping: the parts that follow are the steps, step_finish carries the usage.
        return true;
      case 'text':
      case 'reasoning': {
        const kind = e.type === 'text' ? 'message' : 'thinking';
        b.add(at, { kind, role: 'assistant', title: oneLine(e.part.text) || `(${kind})`, text: clip(e.part.text) });
        return true;
      }
      case 'tool_use': {
        const { tool, callID, state } = e.part;
        const draft = toolDraft(tool, state.input);
        const failed = state.status === 'error';
        const exit = state.metadata && typeof state.metadata.exit === 'number' ? state.metadata.exit : null;
        const output = failed
          ? errorMessage(state.error)
          : state.output === undefined
            ? null
            : clip(asText(state.output));
        const step = b.add(at, {
          ...draft,
          ...(callID ? { toolId: callID } : { toolId: `line-${ctx.line}` }),
          output,
          status: failed ? 'failed' : (state.status ?? 'completed'),
          isError: failed || (exit !== null && exit !== 0),
          ...(draft.kind === 'shell' ? { exitCode: exit } : {}),
        });
        if (state.title && draft.kind === 'tool') step.title = `${tool}: ${oneLine(state.title, 120)}`;
        return true;
      }
      case 'step_finish': {
        const tk = e.part.tokens;
        const cacheRead = num(tk?.cache?.read);
        const usage = {
          inputTokens: num(tk?.input) + cacheRead + num(tk?.cache?.write),
          cachedInputTokens: cacheRead,
          outputTokens: num(tk?.output) + num(tk?.reasoning),
        };
        b.addUsage(usage, e.part.cost);
        b.add(at, {
          kind: 'usage',
          role: 'system',
          title: `step finished: ${e.part.reason ?? '?'}${typeof e.part.cost === 'number' ? ` · $${e.part.cost.toFixed(4)}` : ''}`,
          usage,
          ...(typeof e.part.cost === 'number' ? { costUsd: e.part.cost } : {}),
        });
        return true;
      }
      case 'error': {
        const message = errorMessage(e.error);
        b.add(at, { kind: 'error', title: `error: ${oneLine(message)}`, text: clip(message), isError: true });
        return true;
      }
    }
  };
}
