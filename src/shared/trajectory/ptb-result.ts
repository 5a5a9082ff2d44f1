/**
 * The pure half of reading a PostTrainBench result folder (shared/PTB.md, "A finished run folder"):
 * `results/{agent}_{config}_{H}h[_{N}gpu]{exp}/{task}_{Org}_{Model}_{ClusterId}/` with `time_taken.txt`
 * (`HH:MM:SS`), `output.log` (a `--- SOLVE DIAGNOSTICS ---` block of `key: value` lines), `error.log` (`Terminated`
 * on timeout, `Killed` on OOM) and the judge's verdicts.
 */

export type PtbAgentId = 'claude-code' | 'codex' | 'gemini-cli' | 'opencode';

export interface PtbAgentConfig {
  /**
   * The app's scaffold id when the method folder names one of the four it runs; otherwise the method folder's
   * agent part as written (`cursor_cli`, `grok_cli`, `glm5`), never `custom`.
   */
  agent: string;
  /** Whether `agent` is one of the app's built-in scaffolds (and so has a known stream dialect). */
  builtIn: boolean;
  /** The method folder before the model: `codex_non_api_high` in `codex_non_api_high_gpt-5.4_10h_run1`. */
  method: string;
  /** The model named before the hours (`gpt-5.4` in `codex_non_api_high_gpt-5.4_10h_run1`), or ''. */
  model: string;
  budgetHours: number | null;
}

const AGENT_PREFIXES: Array<[string, PtbAgentId]> = [
  ['claude', 'claude-code'],
  ['codex', 'codex'],
  ['gemini', 'gemini-cli'],
  ['opencode', 'opencode'],
];

/** A name from a folder, fit for a label: no control characters, at most 64 characters. */
function cleanName(name: string): string {
  // eslint-disable-next-line no-control-regex
  return name.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').slice(0, 64);
}

/** `codex_non_api_high_gpt-5.4_10h_run1` → codex, gpt-5.4, 10 h; `cursor_cli_gpt-5_10h` → cursor_cli, gpt-5. */
export function parseAgentConfigName(name: string): PtbAgentConfig {
  const tokens = name.split('_');
  const hoursAt = tokens.findIndex((t, i) => i > 0 && /^\d+(?:\.\d+)?h$/.test(t));
  const hours = hoursAt > 0 ? Number(tokens[hoursAt]!.slice(0, -1)) : NaN;
  const budgetHours = Number.isFinite(hours) && hours > 0 && hours <= 1000 ? hours : null;
  const model = hoursAt > 1 ? tokens[hoursAt - 1]! : '';
  const method = cleanName(hoursAt > 1 ? tokens.slice(0, hoursAt - 1).join('_') : name) || 'custom';
  const first = (tokens[0] ?? '').toLowerCase();
  const builtIn = AGENT_PREFIXES.find(([prefix]) => first.startsWith(prefix))?.[1];
  return { agent: builtIn ?? method, builtIn: builtIn !== undefined, method, model: cleanName(model), budgetHours };
}

/** `<benchmark>_<Org>_<Model>_<ClusterId>`: a folder named like a PostTrainBench task folder. */
export function looksLikeTaskFolder(name: string): boolean {
  return /^[A-Za-z0-9.-]+_[A-Za-z0-9.-]+_[A-Za-z0-9._-]+_\d+$/.test(name);
}

export interface PtbTaskFolder {
  benchmark: string;
  /** `Qwen/Qwen3-1.7B-Base`, or '' when the name does not say. */
  baseModel: string;
  clusterId: string | null;
}

/** `gsm8k_Qwen_Qwen3-1.7B-Base_16934887` → gsm8k, Qwen/Qwen3-1.7B-Base, 16934887. */
export function parseTaskFolderName(name: string): PtbTaskFolder {
  const tokens = name.split('_');
  const clusterId = tokens.length > 1 && /^\d+$/.test(tokens[tokens.length - 1]!) ? tokens.pop()! : null;
  const benchmark = tokens.shift() ?? name;
  const org = tokens.shift();
  const model = tokens.join('_');
  return { benchmark, baseModel: org && model ? `${org}/${model}` : '', clusterId };
}

/** Longer than any budget PostTrainBench gives (a year): a time_taken beyond it is a broken file, not a run. */
export const MAX_TIME_TAKEN_SECONDS = 366 * 24 * 3600;

/** `HH:MM:SS` (hours may exceed 24) → seconds; null when it is not that, or longer than a year. */
export function parseTimeTaken(text: string): number | null {
  const match = /^\s*(\d{1,7}):(\d{1,2}):(\d{1,2}(?:\.\d{1,9})?)\s*$/.exec(text);
  if (!match) return null;
  const seconds = Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
  return Number.isFinite(seconds) && seconds <= MAX_TIME_TAKEN_SECONDS ? seconds : null;
}

/** The `key: value` lines after `--- SOLVE DIAGNOSTICS ---`, up to a blank line or the next `---` line. */
export function parseSolveDiagnostics(outputLog: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = outputLog.split('\n').map((l) => l.replace(/\r$/, ''));
  const start = lines.findIndex((l) => /^-{3}\s*SOLVE DIAGNOSTICS\s*-{3}\s*$/.test(l.trim()));
  if (start < 0) return out;
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '' || line.trim().startsWith('---')) break;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    out[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return out;
}

/** What error.log says happened, in words; null when it is empty. */
export function errorLogCause(errorLog: string): string | null {
  const first = errorLog
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
  if (!first) return null;
  if (/^Terminated\b/.test(first)) return 'Terminated: the time limit ran out (the harness’s timeout sent SIGTERM)';
  if (/^Killed\b/.test(first)) return 'Killed: out of memory (the kernel’s OOM killer)';
  return first.length > 300 ? `${first.slice(0, 299)}…` : first;
}

export interface PtbJudgement {
  /** `contamination`, `disallowed_model`, `disallowed_api_usage`…: the judge's own word for the check. */
  check: string;
  flagged: boolean | null;
  /** The judge's justification (empty when it gave none); for a file that could not be read, its text. */
  text: string;
  /** Why no verdict could be read from the file, when none could. */
  problem?: string;
}

/** Files the PostTrainBench judges write: every form, old and new, reruns included. */
export function isJudgementFile(name: string): boolean {
  return /^(?:judgement.*\.json|judge_result.*\.json|(?:contamination|disallowed_model)_judgement.*\.txt)$/.test(name);
}

const MAX_JUDGEMENT_TEXT = 20_000;

function clipText(text: string): string {
  return text.length > MAX_JUDGEMENT_TEXT ? `${text.slice(0, MAX_JUDGEMENT_TEXT - 1)}…` : text;
}

/** The old judge's one-line verdicts (src/disallowed_usage_judge/prompt.txt in the harness). */
const TEXT_VERDICTS: Record<string, Array<[string, boolean]>> = {
  contamination: [
    ['no contamination detected', false],
    ['contamination detected', true],
  ],
  disallowed_model: [
    ['only allowed use detected', false],
    ['disallowed use detected', true],
  ],
};

/**
 * The judges' verdicts, in every form the harness has written:
 * - `judgement_<judge model>.json` (run_judge.sh): booleans such as `contamination`, `disallowed_model`,
 *   `disallowed_api_usage`, each with `justification_<check>`;
 * - `judge_result*.json`: the same, or the migrated `contamination_detected` / `disallowed_model_detected`;
 * - `contamination_judgement[_rerun].txt` / `disallowed_model_judgement[_rerun].txt`: a verdict line
 *   (`no contamination detected`, `only allowed use detected`…), anything after it taken as the justification.
 */
export function parseJudgement(file: string, text: string): PtbJudgement[] {
  if (file.endsWith('.json')) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return [
        {
          check: file,
          flagged: null,
          text: clipText(text.trim()),
          problem: `not valid JSON (${(err as Error).message})`,
        },
      ];
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      return [{ check: file, flagged: null, text: clipText(text.trim()), problem: 'not a JSON object' }];
    }
    const record = value as Record<string, unknown>;
    const checks = Object.keys(record).filter((k) => !k.startsWith('_') && typeof record[k] === 'boolean');
    if (checks.length === 0) {
      return [
        { check: file, flagged: null, text: clipText(text.trim()), problem: 'no verdict in it (no true/false field)' },
      ];
    }
    return checks.map((key) => {
      const check = key.replace(/_detected$/, '');
      const why = [
        `justification_${key}`,
        `justification_${check}`,
        `${key}_justification`,
        `${check}_justification`,
        `${check}_reason`,
        ...(checks.length === 1 ? ['justification', 'reason'] : []),
      ]
        .map((k) => record[k])
        .find((v): v is string => typeof v === 'string');
      return { check, flagged: record[key] as boolean, text: clipText(why?.trim() ?? '') };
    });
  }
  const check = file.startsWith('contamination')
    ? 'contamination'
    : file.startsWith('disallowed')
      ? 'disallowed_model'
      : file;
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const at = lines.findIndex((l) => l.trim() !== '');
  const verdict = at < 0 ? '' : lines[at]!.trim();
  const said = verdict.toLowerCase().replace(/[.!]+$/, '');
  const known = TEXT_VERDICTS[check]?.find(([words]) => words === said);
  if (known)
    return [
      {
        check,
        flagged: known[1],
        text: clipText(
          lines
            .slice(at + 1)
            .join('\n')
            .trim(),
        ),
      },
    ];
  return [
    {
      check,
      flagged: null,
      text: clipText(text.trim()),
      problem:
        at < 0
          ? 'the file is empty'
          : `its first line is not one of the judge's verdicts (${(TEXT_VERDICTS[check] ?? []).map(([words]) => `"${words}"`).join(', ') || 'none known for this file'})`,
    },
  ];
}
