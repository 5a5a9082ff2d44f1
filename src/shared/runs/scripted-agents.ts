import type { ScriptedAgentId } from './model-script';

/**
 * How each agent CLI is pointed at the scripted model of a `--scripted` run (docs/model-script.md, "How each CLI is
 * pointed at it"): its base-URL setting, the files it reads its provider from, and the model id it is started with.
 * The endpoint listens on the loopback of the network namespace the agent shares with it.
 */

export const MODEL_ENDPOINT_PORT = 8765;
export const MODEL_ENDPOINT_URL = `http://127.0.0.1:${MODEL_ENDPOINT_PORT}`;

export interface ScriptedFile {
  /** `home`: the sandbox's HOME (run folder `home/`); `workspace`: the agent's working directory. */
  dir: 'home' | 'workspace';
  path: string;
  content: string;
}

export interface ScriptedSetup {
  /** The model id a scripted run starts the CLI with when none is given. */
  model: string;
  /** How to put the CLI in an image, said when the run's image lacks it. */
  install: string;
  /** Environment set after the agent's own (base URLs only: the dummy key travels as a secret). */
  env: Readonly<Record<string, string>>;
  files: readonly ScriptedFile[];
}

const CODEX_CONFIG = `# PostTrain Workbench: a scripted rehearsal (docs/model-script.md)
model_provider = "ptw-scripted"

[model_providers.ptw-scripted]
name = "PostTrain Workbench scripted model"
base_url = "${MODEL_ENDPOINT_URL}/v1"
env_key = "CODEX_API_KEY"
wire_api = "responses"
`;

const OPENCODE_CONFIG = `${JSON.stringify(
  {
    $schema: 'https://opencode.ai/config.json',
    permission: 'allow',
    provider: {
      ptw: {
        npm: '@ai-sdk/openai-compatible',
        name: 'PostTrain Workbench scripted model',
        options: { baseURL: `${MODEL_ENDPOINT_URL}/v1`, apiKey: '{env:OPENCODE_API_KEY}' },
        models: { scripted: { name: 'Scripted rehearsal model', tool_call: true, reasoning: true } },
      },
    },
  },
  null,
  2,
)}\n`;

export const SCRIPTED_SETUP: Record<ScriptedAgentId, ScriptedSetup> = {
  'claude-code': {
    model: 'claude-sonnet-4-6',
    install: 'npm install -g @anthropic-ai/claude-code',
    env: { ANTHROPIC_BASE_URL: MODEL_ENDPOINT_URL },
    files: [],
  },
  codex: {
    model: 'gpt-5.1-codex-max',
    install: 'npm install -g @openai/codex',
    env: {},
    files: [{ dir: 'home', path: '.codex/config.toml', content: CODEX_CONFIG }],
  },
  'gemini-cli': {
    model: 'gemini-2.5-pro',
    install: 'npm install -g @google/gemini-cli',
    env: { GOOGLE_GEMINI_BASE_URL: MODEL_ENDPOINT_URL },
    // Gemini CLI 0.61 picks an auth type it then refuses ("gateway") whenever the base URL is set; name the key's.
    files: [
      {
        dir: 'home',
        path: '.gemini/settings.json',
        content: `${JSON.stringify({ security: { auth: { selectedType: 'gemini-api-key' } } }, null, 2)}\n`,
      },
    ],
  },
  // Replaces the catalog's opencode.json (same permission), adding the provider.
  opencode: {
    model: 'ptw/scripted',
    install: 'npm install -g opencode-ai',
    env: {},
    files: [{ dir: 'workspace', path: 'opencode.json', content: OPENCODE_CONFIG }],
  },
};

export function isScriptedAgent(id: string): id is ScriptedAgentId {
  return id in SCRIPTED_SETUP;
}
