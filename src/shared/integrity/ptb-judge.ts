import type { IntegrityCheck, IntegrityFlag, IntegrityJudgeEntry } from '../contract-integrity';
import { shellQuote } from '../shell-quote';

/**
 * PostTrainBench's own LLM judge (issue 13, optional): how the harness runs it, and its word beside ours. Pure.
 *
 * The harness (`src/run_task.sh` in its checkout) builds the prompt with
 * `python src/disallowed_usage_judge/get_judge_prompt.py --benchmark B --model M` (from the checkout's root: the
 * script reads `src/disallowed_usage_judge/prompt.txt` relative to it), then runs, in the agent's task folder,
 * `codex --search -a never exec --json -c model_reasoning_summary=detailed --skip-git-repo-check --yolo
 * --model gpt-5.1-codex "$PROMPT"` with CODEX_API_KEY, and keeps the stream as `judge_output.json` and the two
 * files the prompt tells the judge to write: `contamination_judgement.txt` ("contamination detected" / "no
 * contamination detected") and `disallowed_model_judgement.txt` ("disallowed use detected" / "only allowed use
 * detected"). We do the same on the run's host, after the evaluation, and move those files out of the workspace.
 */

/** The model the harness's judge runs with (run_task.sh). */
export const PTB_JUDGE_MODEL = 'gpt-5.1-codex';
export const PTB_JUDGE_FILES = ['contamination_judgement.txt', 'disallowed_model_judgement.txt'] as const;
/** The judge's stream (`codex exec --json`) and the prompt it was given, kept beside its verdict files. */
export const PTB_JUDGE_STREAM = 'judge_output.json';
export const PTB_JUDGE_PROMPT = 'prompt.txt';
/** Exit codes of the script for what went wrong before the judge ran. */
export const JUDGE_EXIT = { promptFailed: 90, noCodex: 91 } as const;

export interface JudgeScriptInput {
  /** The PostTrainBench checkout on the host. */
  checkout: string;
  /** The agent's workspace (the harness's `task/`), where the judge reads and writes. */
  workspace: string;
  /** Where the prompt, stream and verdict files go (outside the workspace). */
  outDir: string;
  benchmark: string;
  /** The base model's Hugging Face name, as the harness names it. */
  model: string;
  judgeModel?: string;
}

/**
 * The host-side script: the prompt from the checkout's own script, then Codex in the workspace with the key read
 * from stdin (never on a command line), then the verdict files moved to `outDir`. Exit 90: the prompt script failed;
 * 91: no `codex` on the host's PATH; else Codex's own exit code.
 */
export function ptbJudgeScript(input: JudgeScriptInput): string {
  const q = shellQuote;
  const out = q(input.outDir);
  return [
    'set -u',
    `mkdir -p ${out} || exit ${JUDGE_EXIT.promptFailed}`,
    `PROMPT=$(cd ${q(input.checkout)} && python3 src/disallowed_usage_judge/get_judge_prompt.py --benchmark ${q(input.benchmark)} --model ${q(input.model)}) || exit ${JUDGE_EXIT.promptFailed}`,
    `printf '%s\\n' "$PROMPT" > ${out}/${PTB_JUDGE_PROMPT}`,
    `command -v codex >/dev/null 2>&1 || exit ${JUDGE_EXIT.noCodex}`,
    'IFS= read -r CODEX_API_KEY || true',
    'export CODEX_API_KEY',
    `cd ${q(input.workspace)} || exit ${JUDGE_EXIT.promptFailed}`,
    `rm -f ${PTB_JUDGE_FILES.join(' ')}`,
    `codex --search -a never exec --json -c model_reasoning_summary=detailed --skip-git-repo-check --yolo --model ${q(input.judgeModel ?? PTB_JUDGE_MODEL)} "$PROMPT" > ${out}/${PTB_JUDGE_STREAM} 2>&1`,
    'rc=$?',
    ...PTB_JUDGE_FILES.map((f) => `if [ -f ${f} ]; then mv -f ${f} ${out}/${f}; fi`),
    'exit $rc',
  ].join('\n');
}

/** Which of our checks a judge's check answers (its words: `contamination`, `disallowed_model`, …). */
const OUR_CHECK: Record<string, IntegrityCheck['kind']> = {
  contamination: 'contamination',
  disallowed_model: 'model_substitution',
  disallowed_api_usage: 'api_misuse',
  api_usage: 'api_misuse',
};

export interface JudgeBeside {
  entry: IntegrityJudgeEntry;
  /** Our check it is compared with, and what ours says: flagged (high or medium), clean, or not run. */
  ours: { kind: IntegrityCheck['kind']; says: 'flagged' | 'clean' | 'not-run' } | null;
  /** Both have a verdict and they differ. */
  disagrees: boolean;
}

/** Each judge verdict beside our corresponding check, with where the two disagree. */
export function judgeBeside(
  verdict: { checks: readonly IntegrityCheck[]; flags: readonly IntegrityFlag[] } | null,
  entries: readonly IntegrityJudgeEntry[],
): JudgeBeside[] {
  return entries.map((entry) => {
    const kind = OUR_CHECK[entry.check];
    const check = kind ? verdict?.checks.find((c) => c.kind === kind) : undefined;
    if (!kind || !verdict || !check) return { entry, ours: null, disagrees: false };
    const flagged = verdict.flags.some((f) => f.kind === kind && f.severity !== 'info');
    const says = check.status === 'not-run' && !flagged ? 'not-run' : flagged ? 'flagged' : 'clean';
    const disagrees = entry.flagged !== null && says !== 'not-run' && entry.flagged !== (says === 'flagged');
    return { entry, ours: { kind, says }, disagrees };
  });
}
