import { formatDuration, parseDuration } from '../../shared/runs/duration';

/** The most one extension may add, as `runs.extend` accepts it. */
export const MAX_EXTENSION_SECONDS = 7 * 24 * 3600;

export type ExtensionCheck =
  { readonly ok: true; readonly seconds: number } | { readonly ok: false; readonly message: string };

/** What the Extend box's text means: whole seconds within the contract's range, or why not. */
export function parseExtension(text: string): ExtensionCheck {
  const parsed = parseDuration(text);
  if (!parsed.ok) return { ok: false, message: parsed.message.charAt(0).toUpperCase() + parsed.message.slice(1) };
  if (parsed.value < 1) return { ok: false, message: 'Add at least one second.' };
  if (parsed.value > MAX_EXTENSION_SECONDS) {
    return { ok: false, message: `One extension adds at most ${formatDuration(MAX_EXTENSION_SECONDS)}.` };
  }
  return { ok: true, seconds: parsed.value };
}

/** The deadline after adding `seconds`: to the current one, or to now when the host has not reported one. */
export function extendedDeadline(deadline: number | null | undefined, seconds: number, now: number): number {
  return (typeof deadline === 'number' && Number.isFinite(deadline) ? deadline : now) + seconds * 1000;
}
