import { z } from 'zod';

/**
 * The model script a `--scripted` rehearsal replays to a real agent CLI (docs/model-script.md): a provider-neutral
 * list of assistant turns (thinking, text, tool calls named with the CLI's own tool names). The host checks the same
 * rules again (resources/host/ptw_host/model_endpoint/script.py), since a hand-edited file may reach it directly;
 * both name the turn in every error.
 */

export const MODEL_SCRIPT_FORMAT = 'ptw-model-script/1';
export const MAX_SCRIPT_TURNS = 1000;
export const SCRIPTED_AGENT_IDS = ['claude-code', 'codex', 'gemini-cli', 'opencode'] as const;
export type ScriptedAgentId = (typeof SCRIPTED_AGENT_IDS)[number];

const nonEmpty = z.string().min(1, 'must be a non-empty string');

const toolCallSchema = z.strictObject({
  name: z.string().trim().min(1, "must be the tool's name as the agent declares it (e.g. Bash, shell)"),
  /** A function tool's arguments, or the text of a free-form tool (Codex's apply_patch). */
  input: z.union([z.record(z.string(), z.unknown()), z.string()]).default({}),
});

const turnSchema = z
  .strictObject({
    thinking: nonEmpty.optional(),
    text: nonEmpty.optional(),
    toolCalls: z.array(toolCallSchema).default([]),
  })
  .refine((turn) => turn.text !== undefined || turn.toolCalls.length > 0, {
    message: 'needs text or at least one tool call (thinking alone says nothing to the agent)',
  });

export const modelScriptSchema = z
  .strictObject({
    format: z.literal(MODEL_SCRIPT_FORMAT),
    agent: z.enum(SCRIPTED_AGENT_IDS).optional(),
    description: nonEmpty.optional(),
    turns: z.array(turnSchema).min(1, 'must hold at least one assistant turn').max(MAX_SCRIPT_TURNS),
    /** The answer to side requests (titles, quota probes): requests that offer no tools and take no turn. */
    sideReply: nonEmpty.optional(),
  })
  .superRefine((script, ctx) => {
    const last = script.turns[script.turns.length - 1];
    if (last && last.toolCalls.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['turns', script.turns.length - 1],
        message:
          'the last turn calls tools, so the agent would ask for a turn the script does not have; end with a turn of text only',
      });
    }
  });

export type ModelScript = z.infer<typeof modelScriptSchema>;

/** Where an issue is, in the words the host uses: `turn 3, tool call 2: name …`. */
function issueWhere(path: readonly PropertyKey[]): string {
  const parts: string[] = [];
  for (let i = 0; i < path.length; i++) {
    const key = path[i];
    const next = path[i + 1];
    if (key === 'turns' && typeof next === 'number') {
      parts.push(`turn ${next + 1}`);
      i++;
    } else if (key === 'toolCalls' && typeof next === 'number') {
      parts.push(`tool call ${next + 1}`);
      i++;
    } else parts.push(String(key));
  }
  return parts.join(', ') || 'the script';
}

/** Parses a script's JSON text; errors name the file, the turn and the field. */
export function parseModelScript(
  text: string,
  source = 'the script',
): { ok: true; script: ModelScript } | { ok: false; error: string } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `${source} is not JSON: ${(err as Error).message}` };
  }
  const result = modelScriptSchema.safeParse(data);
  if (result.success) return { ok: true, script: result.data };
  const issues = result.error.issues.map((issue) => `${issueWhere(issue.path)}: ${issue.message}`);
  return { ok: false, error: `${source}: ${issues.join('; ')}` };
}

/** The tool names a script calls, for a launch-time look at whether they fit the agent. */
export function scriptToolNames(script: ModelScript): string[] {
  return [...new Set(script.turns.flatMap((turn) => turn.toolCalls.map((call) => call.name)))].sort();
}
