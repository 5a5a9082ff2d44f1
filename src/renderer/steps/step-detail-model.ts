import type { AgentStep } from '../../shared/contract-trajectory';

/** What a step's row says after its title: no result yet, the exit code, or an error. */
export function stepStatusText(step: AgentStep): string {
  if (step.status === 'in_progress') return 'no result';
  if (step.exitCode !== undefined && step.exitCode !== null) return `exit ${step.exitCode}`;
  return step.isError ? 'error' : '';
}

function json(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

/** The labelled blocks of an expanded step, in the order shown; the agent's text is kept as it was printed. */
export function stepDetailBlocks(step: AgentStep): { label: string; text: string }[] {
  const blocks: { label: string; text: string }[] = [];
  if (step.command !== undefined) blocks.push({ label: 'Command', text: step.command });
  if (step.files && step.files.length > 0)
    blocks.push({ label: 'Files', text: step.files.map((f) => `${f.action}  ${f.path}`).join('\n') });
  if (step.text !== undefined && step.text !== '')
    blocks.push({ label: step.kind === 'raw' ? 'Line' : 'Text', text: step.text });
  if (step.input !== undefined && step.command === undefined) blocks.push({ label: 'Input', text: json(step.input) });
  if (step.output !== undefined)
    blocks.push({ label: 'Output', text: step.output === null ? '(no result recorded)' : step.output || '(empty)' });
  if (step.usage) {
    blocks.push({
      label: 'Tokens',
      text: `input ${step.usage.inputTokens} (cached ${step.usage.cachedInputTokens}), output ${step.usage.outputTokens}${step.costUsd !== undefined ? `, cost $${step.costUsd}` : ''}`,
    });
  }
  return blocks;
}
