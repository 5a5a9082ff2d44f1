/**
 * The pure half of reading a PostTrainBench result folder (shared/PTB.md, "A finished run folder"):
 * `results/{agent}_{config}_{H}h[_{N}gpu]{exp}/{task}_{Org}_{Model}_{ClusterId}/` with `time_taken.txt`
 * (`HH:MM:SS`), `output.log` (a `--- SOLVE DIAGNOSTICS ---` block of `key: value` lines), `error.log` (`Terminated`
 * on timeout, `Killed` on OOM) and the judge's verdicts.
 */

export type PtbAgentId = 'claude-code' | 'codex' | 'gemini-cli' | 'opencode' | 'custom';

export interface PtbAgentConfig {
  agent: PtbAgentId;
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

/** `codex_non_api_high_gpt-5.4_10h_run1` → codex, gpt-5.4, 10 h. */
export function parseAgentConfigName(name: string): PtbAgentConfig {
  const tokens = name.split('_');
  const first = (tokens[0] ?? '').toLowerCase();
  const agent = AGENT_PREFIXES.find(([prefix]) => first.startsWith(prefix))?.[1] ?? 'custom';
  const hoursAt = tokens.findIndex((t, i) => i > 0 && /^\d+(?:\.\d+)?h$/.test(t));
  const budgetHours = hoursAt > 0 ? Number(tokens[hoursAt]!.slice(0, -1)) : null;
  const model = hoursAt > 1 ? tokens[hoursAt - 1]! : '';
  return { agent, model, budgetHours };
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

/** `HH:MM:SS` (hours may exceed 24) → seconds; null when it is not that. */
export function parseTimeTaken(text: string): number | null {
  const match = /^\s*(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)\s*$/.exec(text);
  if (!match) return null;
  return Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
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
  check: string;
  flagged: boolean | null;
  text: string;
}

/**
 * The judge's verdicts: `judgement_*.json` with `contamination` / `disallowed_model` booleans (and justifications),
 * or the older free-text `contamination_judgement.txt` / `disallowed_model_judgement.txt` (shown as written).
 */
export function parseJudgement(file: string, text: string): PtbJudgement[] {
  if (file.endsWith('.json')) {
    try {
      const value = JSON.parse(text) as Record<string, unknown>;
      const out: PtbJudgement[] = [];
      for (const check of ['contamination', 'disallowed_model']) {
        if (typeof value[check] !== 'boolean') continue;
        const why = [`${check}_justification`, 'justification', `${check}_reason`]
          .map((k) => value[k])
          .find((v): v is string => typeof v === 'string');
        out.push({ check, flagged: value[check], text: why ?? '' });
      }
      if (out.length > 0) return out;
    } catch {
      // Shown as text below.
    }
  }
  const check = file.startsWith('contamination')
    ? 'contamination'
    : file.startsWith('disallowed')
      ? 'disallowed_model'
      : file;
  return [{ check, flagged: null, text: text.trim() }];
}
