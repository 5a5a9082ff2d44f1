/**
 * The agents a run can start, each with its exact non-interactive invocation (shared/PTB.md), the credential it
 * reads, the fixed environment it needs, the JSON-lines format it prints and the files it expects beside it.
 *
 * How the prompt reaches the agent: the launcher writes it to a file (`/ptw/prompt.txt`, read-only in the sandbox)
 * and the agent is started as
 *
 *     /bin/sh -c '<script>' ptw-agent <model> <prompt file>
 *
 * where the script reads the file into a shell variable and `exec`s the agent with it as one argument. The model
 * and the path travel as positional parameters (`"$1"`, `"$2"`), never spliced into shell source, so no quoting
 * of user input is involved anywhere; the prompt is never put in the container's environment (where `docker
 * inspect` and every child process would see it), and `exec` makes the agent the process that receives the
 * supervisor's signals. One argument holds up to 128 KiB on Linux (MAX_ARG_STRLEN); prompts are a few KiB.
 */

import { shellQuote } from '../shell-quote';

export const AGENT_IDS = ['claude-code', 'codex', 'gemini-cli', 'opencode', 'rehearsal', 'custom'] as const;
export type AgentId = (typeof AGENT_IDS)[number];

/** The JSON-lines dialects agents print; `none` is a terminal-only agent. */
export const STREAM_FORMATS = [
  'claude-stream-json',
  'codex-exec-json',
  'gemini-stream-json',
  'opencode-json',
  'none',
] as const;
export type StreamFormat = (typeof STREAM_FORMATS)[number];

/** Placeholders an argv template may use, each as a whole word or inside one (`--model={model}`). */
export const ARGV_PLACEHOLDERS = ['{model}', '{prompt}', '{prompt_file}'] as const;

export interface AgentCredential {
  /** The variable the sandbox gets. */
  env: string;
  /** Names the key may be stored under in the secret store, tried in order. */
  secretNames: readonly string[];
  kind: 'api-key' | 'subscription-token';
  label: string;
}

/** A login kept in a file instead of a variable (e.g. a copied `~/.codex/auth.json`), relative to the sandbox HOME. */
export interface AgentCredentialFile {
  homePath: string;
  label: string;
}

/** A file the launcher writes before the agent starts. */
export interface AgentFile {
  /** `workspace`: the agent's working directory (/workspace); `ptw`: the read-only /ptw folder. */
  dir: 'workspace' | 'ptw';
  path: string;
  /** Literal content, or… */
  content?: string;
  /** …a file under resources/ to copy. */
  resource?: string;
  mode: number;
}

export interface AgentDefinition {
  id: AgentId;
  label: string;
  /** The executable the sandbox image must have on PATH (preflight checks it); null when the user supplies it. */
  binary: string | null;
  /** argv template with {@link ARGV_PLACEHOLDERS}; null for `custom`, whose command comes with the run spec. */
  argv: readonly string[] | null;
  /** Any one of these is enough; none listed means the agent needs no key. */
  credentials: readonly AgentCredential[];
  credentialFiles: readonly AgentCredentialFile[];
  /** Fixed environment, set after the user's extra env so a run cannot switch the agent's sandbox mode back on. */
  env: Readonly<Record<string, string>>;
  streamFormat: StreamFormat;
  files: readonly AgentFile[];
  /** Whether a run must name the model (`--model`). */
  modelRequired: boolean;
  /** Shown as hints in the launch form; any id the agent's provider accepts works. */
  exampleModels: readonly string[];
  docs: string;
}

const OPENCODE_CONFIG = `${JSON.stringify({ $schema: 'https://opencode.ai/config.json', permission: 'allow' }, null, 2)}\n`;

export const AGENTS: readonly AgentDefinition[] = [
  {
    id: 'claude-code',
    label: 'Claude Code',
    binary: 'claude',
    argv: [
      'claude',
      '--print',
      '--verbose',
      '--model',
      '{model}',
      '--output-format',
      'stream-json',
      '--dangerously-skip-permissions',
      '{prompt}',
    ],
    credentials: [
      { env: 'ANTHROPIC_API_KEY', secretNames: ['ANTHROPIC_API_KEY'], kind: 'api-key', label: 'Anthropic API key' },
      {
        env: 'CLAUDE_CODE_OAUTH_TOKEN',
        secretNames: ['CLAUDE_CODE_OAUTH_TOKEN'],
        kind: 'subscription-token',
        label: 'Claude subscription token (claude setup-token)',
      },
    ],
    credentialFiles: [],
    env: {
      // Claude Code refuses --dangerously-skip-permissions as root unless told it is in a sandbox, which a run's
      // container is: https://github.com/anthropics/claude-code/issues/3490
      IS_SANDBOX: '1',
      // Lets the Bash tool run a training job in the foreground for up to 10 h, as PostTrainBench allows.
      BASH_MAX_TIMEOUT_MS: '36000000',
    },
    streamFormat: 'claude-stream-json',
    files: [],
    modelRequired: true,
    exampleModels: ['claude-opus-4-6', 'claude-sonnet-4-6'],
    docs: 'https://docs.anthropic.com/en/docs/claude-code/cli-reference',
  },
  {
    id: 'codex',
    label: 'Codex CLI',
    binary: 'codex',
    argv: [
      'codex',
      '--search',
      'exec',
      '--json',
      '-c',
      'model_reasoning_summary=detailed',
      '--skip-git-repo-check',
      '--yolo',
      '--model',
      '{model}',
      '{prompt}',
    ],
    credentials: [
      {
        // Only CODEX_API_KEY goes in, never OPENAI_API_KEY: `codex exec` reads the former, and an OPENAI_API_KEY in
        // the sandbox invites the agent to generate synthetic data with it (a reward hack the paper saw).
        env: 'CODEX_API_KEY',
        secretNames: ['CODEX_API_KEY', 'OPENAI_API_KEY'],
        kind: 'api-key',
        label: 'OpenAI API key',
      },
    ],
    credentialFiles: [{ homePath: '.codex/auth.json', label: 'ChatGPT login (a copied ~/.codex/auth.json)' }],
    env: {},
    streamFormat: 'codex-exec-json',
    files: [],
    modelRequired: true,
    exampleModels: ['gpt-5.1-codex-max', 'gpt-5.4'],
    docs: 'https://developers.openai.com/codex/cli/reference',
  },
  {
    id: 'gemini-cli',
    label: 'Gemini CLI',
    binary: 'gemini',
    argv: ['gemini', '--yolo', '--model', '{model}', '--output-format', 'stream-json', '-p', '{prompt}'],
    credentials: [{ env: 'GEMINI_API_KEY', secretNames: ['GEMINI_API_KEY'], kind: 'api-key', label: 'Gemini API key' }],
    credentialFiles: [],
    env: {
      // The run's container is the sandbox; Gemini CLI's own would try to start a container inside it.
      GEMINI_SANDBOX: 'false',
      // Headless Gemini CLI (0.61) exits with status 55 in a folder it was not told to trust; the workspace is the
      // agent's own: https://geminicli.com/docs/cli/trusted-folders/#headless-and-automated-environments
      GEMINI_CLI_TRUST_WORKSPACE: 'true',
    },
    streamFormat: 'gemini-stream-json',
    files: [],
    modelRequired: true,
    exampleModels: ['gemini-2.5-pro', 'gemini-3-pro-preview'],
    docs: 'https://github.com/google-gemini/gemini-cli/blob/main/docs/cli/headless.md',
  },
  {
    id: 'opencode',
    label: 'OpenCode',
    binary: 'opencode',
    argv: ['opencode', 'run', '--model', '{model}', '--format', 'json', '{prompt}'],
    credentials: [
      { env: 'OPENCODE_API_KEY', secretNames: ['OPENCODE_API_KEY'], kind: 'api-key', label: 'OpenCode API key' },
    ],
    credentialFiles: [],
    env: {},
    streamFormat: 'opencode-json',
    // Without it `opencode run` stops at the first permission prompt, which nobody answers.
    files: [{ dir: 'workspace', path: 'opencode.json', content: OPENCODE_CONFIG, mode: 0o644 }],
    modelRequired: true,
    exampleModels: ['anthropic/claude-sonnet-4-5', 'openai/gpt-5.1'],
    docs: 'https://opencode.ai/docs/cli/',
  },
  {
    id: 'rehearsal',
    label: 'Rehearsal agent (scripted, no API key)',
    binary: 'python3',
    argv: ['/bin/sh', '/ptw/rehearsal-agent.sh', '{prompt_file}'],
    credentials: [],
    credentialFiles: [],
    env: {},
    // It prints a handful of Claude-style stream-json lines so the structured view has something to show.
    streamFormat: 'claude-stream-json',
    files: [{ dir: 'ptw', path: 'rehearsal-agent.sh', resource: 'rehearsal/agent/rehearsal-agent.sh', mode: 0o755 }],
    modelRequired: false,
    exampleModels: [],
    docs: 'resources/rehearsal/agent/rehearsal-agent.sh',
  },
  {
    id: 'custom',
    label: 'Custom command',
    binary: null,
    argv: null,
    credentials: [],
    credentialFiles: [],
    env: {},
    streamFormat: 'none',
    files: [],
    modelRequired: false,
    exampleModels: [],
    docs: 'argv with {model}, {prompt} (the prompt text) and {prompt_file} (its path) placeholders',
  },
];

export function getAgent(id: AgentId): AgentDefinition {
  const agent = AGENTS.find((a) => a.id === id);
  if (!agent) throw new RangeError(`No agent "${id}" in the catalog`);
  return agent;
}

export function isAgentId(value: string): value is AgentId {
  return (AGENT_IDS as readonly string[]).includes(value);
}

export interface AgentCommandInput {
  model: string;
  /** Path of the prompt file inside the sandbox, e.g. `/ptw/prompt.txt`. */
  promptPath: string;
  /** The argv template of a `custom` agent (ignored for the others). */
  command?: readonly string[];
}

const WORD_PARTS = /\{model\}|\{prompt\}|\{prompt_file\}/g;

/** One template word as shell source: literal parts quoted, placeholders as parameter expansions. */
function compileWord(word: string): { source: string; usesPrompt: boolean } {
  let source = '';
  let last = 0;
  let usesPrompt = false;
  for (const match of word.matchAll(WORD_PARTS)) {
    const at = match.index ?? 0;
    if (at > last) source += shellQuote(word.slice(last, at));
    if (match[0] === '{model}') source += '"$1"';
    else if (match[0] === '{prompt_file}') source += '"$2"';
    else {
      source += '"$ptw_prompt"';
      usesPrompt = true;
    }
    last = at + match[0].length;
  }
  if (last < word.length || word === '') source += shellQuote(word.slice(last));
  return { source, usesPrompt };
}

/**
 * The argv that starts `agent` in the sandbox: `/bin/sh -c SCRIPT ptw-agent MODEL PROMPT_PATH` (see the top of this
 * file for why). The script is fixed per template, so it can be shown and audited; only `$1`/`$2` vary.
 */
export function buildAgentCommand(agent: AgentDefinition | AgentId, input: AgentCommandInput): string[] {
  const def = typeof agent === 'string' ? getAgent(agent) : agent;
  const template = def.argv ?? input.command;
  if (!template || template.length === 0) {
    throw new RangeError(`The ${def.label} agent needs a command (an argv list) in the run spec`);
  }
  if (def.modelRequired && input.model.trim() === '') {
    throw new RangeError(`${def.label} needs a model id (e.g. ${def.exampleModels[0] ?? 'the provider’s model name'})`);
  }
  const words = template.map(compileWord);
  const lines: string[] = [];
  if (words.some((w) => w.usesPrompt)) {
    lines.push(
      'ptw_prompt=$(cat -- "$2") || { echo "ptw: cannot read the prompt file $2" >&2; exit 66; }',
      '[ -n "$ptw_prompt" ] || { echo "ptw: the prompt file $2 is empty" >&2; exit 66; }',
    );
  }
  lines.push(`exec ${words.map((w) => w.source).join(' ')}`);
  return ['/bin/sh', '-c', lines.join('\n'), 'ptw-agent', input.model, input.promptPath];
}

/** The template as a person reads it, e.g. for `ptw agent ls`: `claude --print … --model {model} … {prompt}`. */
export function formatArgvTemplate(argv: readonly string[]): string {
  return argv.map((word) => (/^\{[a-z_]+\}$/.test(word) ? word : shellQuote(word))).join(' ');
}

/** The variables that may carry this agent's key into the sandbox. */
export function credentialEnvNames(agent: AgentDefinition): string[] {
  return agent.credentials.map((c) => c.env);
}
