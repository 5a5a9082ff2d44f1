/**
 * API keys found by their shape, for text that comes from elsewhere (a PostTrainBench result folder): the app does
 * not know the key that run used, and PostTrainBench traces have held one (an early agent script echoed its key;
 * shared/PTB.md). Each match becomes `[REDACTED:<what>]`, which keeps a JSON line valid.
 */

const KEY_SHAPES: ReadonlyArray<{ name: string; pattern: RegExp }> = [
  { name: 'anthropic-key', pattern: /\bsk-ant-[A-Za-z0-9_-]{20,}/g },
  { name: 'openai-key', pattern: /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g },
  { name: 'google-key', pattern: /\bAIza[0-9A-Za-z_-]{30,}/g },
  { name: 'hf-token', pattern: /\bhf_[A-Za-z0-9]{30,}/g },
  { name: 'github-token', pattern: /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{20,}/g },
  { name: 'aws-key', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
];

export function redactKeyShapes(text: string): { text: string; count: number } {
  let count = 0;
  let out = text;
  for (const { name, pattern } of KEY_SHAPES) {
    out = out.replace(pattern, () => {
      count++;
      return `[REDACTED:${name}]`;
    });
  }
  return { text: out, count };
}
