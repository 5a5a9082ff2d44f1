import { BASE_MODELS } from '../runs/task-catalog';

/**
 * The base ↔ instruct table the model-substitution check compares `final_model/` against (issue 13). The built-in
 * pairs are PostTrainBench's four base models and their official instruct releases (task-catalog.ts, the same four
 * as the host package's `MODEL_PAIRS`); the user adds pairs (or points a built-in base at another instruct model)
 * in `PTW_HOME/integrity-models.json`, `{"ORG/BASE": "ORG/INSTRUCT"}`, which every pass hands the helper as
 * `--pair BASE=INSTRUCT`. Pure: reading and writing the file is main's job.
 */

export interface ModelPair {
  base: string;
  instruct: string;
  /** `built-in`: PostTrainBench's; `user`: added by the user (a user pair for a built-in base replaces it). */
  source: 'built-in' | 'user';
}

export const BUILT_IN_MODEL_PAIRS: readonly { base: string; instruct: string }[] = BASE_MODELS.map((m) => ({
  base: m.hfId,
  instruct: m.instructHfId,
}));

/** A Hugging Face model name, `ORG/NAME` (the hub cache's `models--ORG--NAME`). */
export const HF_MODEL_NAME = /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/;

function checkName(name: string, what: string): string {
  const trimmed = name.trim();
  if (!HF_MODEL_NAME.test(trimmed)) {
    throw new Error(`${what} '${name}' is not a Hugging Face model name (ORG/NAME, e.g. Qwen/Qwen3-4B-Base)`);
  }
  return trimmed;
}

/** `BASE=INSTRUCT` as the CLI takes it. */
export function parseModelPairArg(arg: string): { base: string; instruct: string } {
  const eq = arg.indexOf('=');
  if (eq < 0) throw new Error(`'${arg}' is not BASE=INSTRUCT (e.g. Qwen/Qwen3-4B-Base=Qwen/Qwen3-4B)`);
  return {
    base: checkName(arg.slice(0, eq), 'the base model'),
    instruct: checkName(arg.slice(eq + 1), 'the instruct model'),
  };
}

/**
 * The user's pairs from the file's JSON: an object of name → name. Anything else is an error naming the file and the
 * entry (a hand-edited file must not silently lose its pairs).
 */
export function parseUserModelPairs(raw: unknown, file: string): Record<string, string> {
  if (raw === undefined) return {};
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error(`${file} must be a JSON object {"ORG/BASE": "ORG/INSTRUCT"}`);
  }
  const out: Record<string, string> = {};
  for (const [base, instruct] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof instruct !== 'string') throw new Error(`${file}: the entry for '${base}' is not a model name`);
    try {
      out[checkName(base, 'the base model')] = checkName(instruct, 'the instruct model');
    } catch (err) {
      throw new Error(`${file}: ${(err as Error).message}`);
    }
  }
  return out;
}

/** Adds (or replaces) and removes user pairs. Removing a base the user never added is an error that says why. */
export function editUserModelPairs(
  user: Readonly<Record<string, string>>,
  add: readonly { base: string; instruct: string }[],
  remove: readonly string[],
): Record<string, string> {
  const next: Record<string, string> = { ...user };
  for (const base of remove) {
    const name = base.trim();
    if (!(name in next)) {
      const builtIn = BUILT_IN_MODEL_PAIRS.some((p) => p.base === name);
      throw new Error(
        builtIn
          ? `${name} is a built-in pair (PostTrainBench's); it cannot be removed, only pointed elsewhere with --add`
          : `no pair for ${name} was added (ptw integrity models lists them)`,
      );
    }
    delete next[name];
  }
  for (const pair of add) {
    next[checkName(pair.base, 'the base model')] = checkName(pair.instruct, 'the instruct model');
  }
  return next;
}

/** The table as shown and used: built-in pairs (replaced where the user named the same base), then the user's. */
export function modelTable(user: Readonly<Record<string, string>>): ModelPair[] {
  const table: ModelPair[] = BUILT_IN_MODEL_PAIRS.map((p) =>
    p.base in user ? { base: p.base, instruct: user[p.base]!, source: 'user' } : { ...p, source: 'built-in' },
  );
  for (const [base, instruct] of Object.entries(user)) {
    if (!BUILT_IN_MODEL_PAIRS.some((p) => p.base === base)) table.push({ base, instruct, source: 'user' });
  }
  return table;
}
