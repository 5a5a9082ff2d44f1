import { z } from 'zod';
import { asText, clip, num, oneLine, type LineContext, type StepBuilder, type StepDraft } from './step-builder';

/**
 * Gemini CLI `--output-format stream-json`: `init`, `message` (user / assistant; `delta: true` fragments of one
 * reply), `tool_use` / `tool_result` (paired by tool_id), `error` (severity), `result` (status, stats). Every event
 * has an ISO `timestamp`. Shapes from google-gemini/gemini-cli packages/core/src/output/types.ts
 * (`JsonStreamEventType`, `StreamStats`).
 */

const eventSchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('init'),
    timestamp: z.string().optional(),
    session_id: z.string().optional(),
    model: z.string().optional(),
  }),
  z.looseObject({
    type: z.literal('message'),
    timestamp: z.string().optional(),
    role: z.string(),
    content: z.string(),
    delta: z.boolean().optional(),
  }),
  z.looseObject({
    type: z.literal('tool_use'),
    timestamp: z.string().optional(),
    tool_name: z.string(),
    tool_id: z.string(),
    parameters: z.unknown().optional(),
  }),
  z.looseObject({
    type: z.literal('tool_result'),
    timestamp: z.string().optional(),
    tool_id: z.string(),
    status: z.string(),
    output: z.string().optional(),
    error: z.looseObject({ type: z.string().optional(), message: z.string().optional() }).optional(),
  }),
  z.looseObject({
    type: z.literal('error'),
    timestamp: z.string().optional(),
    severity: z.string().optional(),
    message: z.string(),
  }),
  z.looseObject({
    type: z.literal('result'),
    timestamp: z.string().optional(),
    status: z.string().optional(),
    error: z.looseObject({ message: z.string().optional() }).optional(),
    stats: z
      .looseObject({
        total_tokens: z.number().optional(),
        input_tokens: z.number().optional(),
        output_tokens: z.number().optional(),
        cached: z.number().optional(),
        duration_ms: z.number().optional(),
        tool_calls: z.number().optional(),
      })
      .optional(),
  }),
]);

const FILE_TOOLS: Record<string, string> = { write_file: 'write', replace: 'edit', edit: 'edit' };

function toolDraft(name: string, parameters: unknown): StepDraft {
  const args = (parameters && typeof parameters === 'object' ? parameters : {}) as Record<string, unknown>;
  if (name === 'run_shell_command' && typeof args.command === 'string') {
    return {
      kind: 'shell',
      title: `$ ${oneLine(args.command)}`,
      toolName: name,
      input: parameters,
      command: args.command,
    };
  }
  const path =
    typeof args.file_path === 'string'
      ? args.file_path
      : typeof args.absolute_path === 'string'
        ? args.absolute_path
        : null;
  const action = FILE_TOOLS[name];
  if (action && path)
    return { kind: 'file', title: `${name} ${path}`, toolName: name, input: parameters, files: [{ path, action }] };
  const hint = ['command', 'file_path', 'absolute_path', 'path', 'pattern', 'query', 'url']
    .map((k) => args[k])
    .find((v): v is string => typeof v === 'string');
  return { kind: 'tool', title: hint ? `${name}: ${oneLine(hint, 120)}` : name, toolName: name, input: parameters };
}

function time(timestamp: string | undefined): number | null {
  if (!timestamp) return null;
  const ms = Date.parse(timestamp);
  return Number.isFinite(ms) ? ms : null;
}

export function createGeminiHandler() {
  /** The assistant reply being streamed in `delta` fragments, if the last step is one. */
  let streaming: { index: number; text: string } | null = null;
  return (event: Record<string, unknown>, ctx: LineContext, b: StepBuilder): boolean => {
    if (event.type === undefined && ('response' in event || 'stats' in event)) return jsonOutput(event, ctx, b);
    const parsed = eventSchema.safeParse(event);
    if (!parsed.success) return false;
    const e = parsed.data;
    const at = { ...ctx, t: ctx.t ?? time(e.timestamp) };
    if (e.type !== 'message' || !e.delta) streaming = null;
    switch (e.type) {
      case 'init':
        b.add(at, {
          kind: 'system',
          role: 'system',
          title: `session started${e.model ? ` · ${e.model}` : ''}`,
          text: asText(event),
        });
        return true;
      case 'message': {
        const role = e.role === 'user' ? 'user' : 'assistant';
        if (e.delta && streaming && b.steps[streaming.index]?.role === role && streaming.index === b.steps.length - 1) {
          streaming.text += e.content;
          const step = b.steps[streaming.index]!;
          step.text = clip(streaming.text);
          step.title = oneLine(streaming.text) || '(message)';
          step.endLine = ctx.line;
          return true;
        }
        const step = b.add(at, {
          kind: 'message',
          role,
          title: oneLine(e.content) || '(message)',
          text: clip(e.content),
        });
        streaming = e.delta ? { index: step.index, text: e.content } : null;
        return true;
      }
      case 'tool_use':
        b.openCall(at, e.tool_id, toolDraft(e.tool_name, e.parameters));
        return true;
      case 'tool_result': {
        const isError = e.status === 'error';
        const output = clip(e.output ?? e.error?.message ?? '');
        if (!b.update(ctx, e.tool_id, { output, isError, status: isError ? 'failed' : 'completed' }, true)) {
          b.add(at, {
            kind: 'tool',
            title: `result of ${e.tool_id} (no matching call)`,
            toolId: e.tool_id,
            output,
            isError,
          });
        }
        return true;
      }
      case 'error':
        b.add(at, {
          kind: 'error',
          title: `${e.severity ?? 'error'}: ${oneLine(e.message)}`,
          text: clip(e.message),
          isError: e.severity !== 'warning',
        });
        return true;
      case 'result': {
        const s = e.stats;
        const usage = s
          ? { inputTokens: num(s.input_tokens), cachedInputTokens: num(s.cached), outputTokens: num(s.output_tokens) }
          : null;
        b.setFinalUsage(usage);
        const failed = e.status === 'error';
        b.add(at, {
          kind: failed ? 'error' : 'usage',
          role: 'system',
          title: `finished: ${e.status ?? 'result'}${s?.tool_calls !== undefined ? ` · ${s.tool_calls} tool calls` : ''}`,
          ...(e.error?.message ? { text: e.error.message } : {}),
          ...(usage ? { usage } : {}),
          isError: failed,
        });
        return true;
      }
    }
  };
}

/**
 * `gemini --output-format json`: one document `{ response, stats: { models: { <model>: { tokens } } }, error }`
 * (gemini-cli packages/core/src/output/types.ts `JsonOutput`): the final answer, the usage summed over models, and
 * the error when there is one.
 */
const jsonOutputSchema = z.looseObject({
  response: z.string().nullable().optional(),
  stats: z
    .looseObject({
      models: z
        .record(
          z.string(),
          z.looseObject({
            tokens: z
              .looseObject({
                prompt: z.number().optional(),
                candidates: z.number().optional(),
                cached: z.number().optional(),
              })
              .optional(),
          }),
        )
        .optional(),
    })
    .optional(),
  error: z.looseObject({ type: z.string().optional(), message: z.string().optional() }).nullable().optional(),
});

function jsonOutput(event: Record<string, unknown>, ctx: LineContext, b: StepBuilder): boolean {
  const parsed = jsonOutputSchema.safeParse(event);
  if (!parsed.success) return false;
  const e = parsed.data;
  if (typeof e.response === 'string' && e.response !== '') {
    b.add(ctx, {
      kind: 'message',
      role: 'assistant',
      title: oneLine(e.response) || '(message)',
      text: clip(e.response),
    });
  }
  const models = Object.values(e.stats?.models ?? {});
  const usage = models.length
    ? {
        inputTokens: models.reduce((n, m) => n + num(m.tokens?.prompt), 0),
        cachedInputTokens: models.reduce((n, m) => n + num(m.tokens?.cached), 0),
        outputTokens: models.reduce((n, m) => n + num(m.tokens?.candidates), 0),
      }
    : null;
  b.setFinalUsage(usage);
  if (e.error?.message) {
    b.add(ctx, {
      kind: 'error',
      title: `error: ${oneLine(e.error.message)}`,
      text: clip(e.error.message),
      isError: true,
    });
  }
  b.add(ctx, {
    kind: 'usage',
    role: 'system',
    title: `finished${models.length ? ` · ${Object.keys(e.stats?.models ?? {}).join(', ')}` : ''}`,
    ...(usage ? { usage } : {}),
  });
  return true;
}
