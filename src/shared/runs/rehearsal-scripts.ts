import { MODEL_SCRIPT_FORMAT, type ModelScript, type ScriptedAgentId } from './model-script';

/**
 * The default model scripts of `ptw run start --task rehearsal --agent <cli> --scripted`: the same plan for every
 * CLI (write a training script, run it, check the model with evaluate.py --limit 3, stop), spoken through each CLI's
 * own tools, so the run is evaluated and scored like any other. Tool names and argument shapes are the CLIs' own
 * (checked against the versions pinned in test/support/agent-clis.json, whose test replays these scripts).
 */

/** The "training" the rehearsal task asks for: a tiny safetensors checkpoint evaluate.py scores (all items right). */
export const REHEARSAL_TRAIN_PY = `import json, os, struct

# The rehearsal "model": one F32 tensor; evaluate.py counts item i right when element i is at least 0.5.
values = [0.9] * 8
data = struct.pack("<%df" % len(values), *values)
header = {"score": {"dtype": "F32", "shape": [len(values)], "data_offsets": [0, len(data)]}}
raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
raw += b" " * (-len(raw) % 8)
os.makedirs("final_model", exist_ok=True)
with open("final_model/model.safetensors", "wb") as out:
    out.write(struct.pack("<Q", len(raw)) + raw + data)
config = {"architectures": ["PtwRehearsalModel"], "model_type": "ptw-rehearsal",
          "weights_file": "model.safetensors", "score_tensor": "score"}
with open("final_model/config.json", "w", encoding="utf-8") as out:
    json.dump(config, out, indent=2)
print("saved final_model/")
`;

const TRAIN = 'python3 train.py && ls final_model';
const CHECK =
  'python3 evaluate.py --model-path final_model --limit 3 --json-output-file /tmp/quick.json && cat /tmp/quick.json';
const WORKSPACE_TRAIN_PY = '/workspace/train.py';

interface CliTools {
  write: (path: string, content: string) => { name: string; input: Record<string, unknown> };
  shell: (command: string, description: string) => { name: string; input: Record<string, unknown> };
}

const TOOLS: Record<ScriptedAgentId, CliTools> = {
  // Claude Code: Write {file_path, content}, Bash {command, description}.
  'claude-code': {
    write: (path, content) => ({ name: 'Write', input: { file_path: path, content } }),
    shell: (command, description) => ({ name: 'Bash', input: { command, description } }),
  },
  // Codex (unified exec): exec_command {cmd, workdir}; files are written through it with a heredoc, since Codex
  // offers apply_patch only to models in its own catalog.
  codex: {
    write: (path, content) => ({
      name: 'exec_command',
      input: { cmd: `cat > ${path} <<'PTW_EOF'\n${content}PTW_EOF`, workdir: '/workspace' },
    }),
    shell: (command) => ({ name: 'exec_command', input: { cmd: command, workdir: '/workspace' } }),
  },
  // Gemini CLI: write_file {file_path, content}, run_shell_command {command, description}.
  'gemini-cli': {
    write: (path, content) => ({ name: 'write_file', input: { file_path: path, content } }),
    shell: (command, description) => ({ name: 'run_shell_command', input: { command, description } }),
  },
  // OpenCode: write {filePath, content}, bash {command, description}.
  opencode: {
    write: (path, content) => ({ name: 'write', input: { filePath: path, content } }),
    shell: (command, description) => ({ name: 'bash', input: { command, description } }),
  },
};

/** The default script for `agent`: four turns that solve the rehearsal task through the CLI's own tools. */
export function defaultRehearsalScript(agent: ScriptedAgentId): ModelScript {
  const tools = TOOLS[agent];
  return {
    format: MODEL_SCRIPT_FORMAT,
    agent,
    description: `The rehearsal task solved through ${agent}'s own tools: write train.py, run it, check the model.`,
    turns: [
      {
        thinking: 'The task wants final_model/ with a config.json and one F32 score tensor; a short script writes it.',
        text: 'I will write a small training script that saves final_model/, run it, and check it with evaluate.py.',
        toolCalls: [tools.write(WORKSPACE_TRAIN_PY, REHEARSAL_TRAIN_PY)],
      },
      { text: 'Running the training script.', toolCalls: [tools.shell(TRAIN, 'Train and save final_model')] },
      {
        text: 'Checking the model on the first three items.',
        toolCalls: [tools.shell(CHECK, 'Quick check with evaluate.py')],
      },
      { text: 'final_model/ is saved and passes the quick check; the rehearsal task is done.', toolCalls: [] },
    ],
    sideReply: 'Rehearsal',
  };
}
