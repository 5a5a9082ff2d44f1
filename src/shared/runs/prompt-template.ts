/**
 * Prompt templates in PostTrainBench's style: `{name}` placeholders (lower-case letters, digits, underscores) in
 * plain text. Anything else in braces (`{ "a": 1 }`, `{}`) is left alone, so templates can show JSON or code.
 */

const PLACEHOLDER = /\{([a-z][a-z0-9_]*)\}/g;

export interface PromptPlaceholder {
  name: string;
  /** 1-based. */
  line: number;
}

export class PromptTemplateError extends Error {
  readonly unknown: PromptPlaceholder[];

  constructor(unknown: PromptPlaceholder[], known: readonly string[]) {
    const listed = unknown.map((p) => `{${p.name}} (line ${p.line})`).join(', ');
    const offered = known.length > 0 ? known.map((k) => `{${k}}`).join(', ') : 'none';
    super(`The prompt template uses placeholders nothing fills: ${listed}. Known placeholders: ${offered}.`);
    this.name = 'PromptTemplateError';
    this.unknown = unknown;
  }
}

/** Every placeholder in `template`, in order of appearance, with its line. */
export function promptPlaceholders(template: string): PromptPlaceholder[] {
  const found: PromptPlaceholder[] = [];
  template.split('\n').forEach((text, i) => {
    for (const match of text.matchAll(PLACEHOLDER)) found.push({ name: match[1] ?? '', line: i + 1 });
  });
  return found;
}

/**
 * Fills each `{name}` from `vars` in one pass, so a value that itself contains `{model}` is not expanded again.
 * A placeholder with no value throws {@link PromptTemplateError} naming each one and its line: a prompt that
 * reaches an agent with a literal `{num_hours}` in it wastes a 10-hour run.
 */
export function renderPrompt(template: string, vars: Readonly<Record<string, string>>): string {
  const unknown = promptPlaceholders(template).filter((p) => !Object.hasOwn(vars, p.name));
  if (unknown.length > 0) throw new PromptTemplateError(unknown, Object.keys(vars).sort());
  return template.replace(PLACEHOLDER, (_, name: string) => vars[name] ?? '');
}
