import type { HostKeyPrompt, PassphrasePrompt } from '../../shared/hosts';

/**
 * Questions main asks while connecting (accept this host key? the passphrase for this key?). They
 * arrive as events in every window, are shown one at a time in arrival order, and leave the queue
 * when answered here or when `hosts.promptClosed` says they were answered elsewhere or timed out.
 */
export type HostPrompt =
  ({ readonly kind: 'hostKey' } & HostKeyPrompt) | ({ readonly kind: 'passphrase' } & PassphrasePrompt);

export interface PromptQueue {
  readonly queue: readonly HostPrompt[];
  /** The prompt whose answer is on its way (buttons disabled meanwhile). */
  readonly answering: string | null;
}

export const emptyPromptQueue: PromptQueue = { queue: [], answering: null };

/** Adds a prompt; one with the same id (a repeat after a reconnect) replaces the old in place. */
export function promptReceived<S extends PromptQueue>(state: S, prompt: HostPrompt): S {
  const at = state.queue.findIndex((p) => p.promptId === prompt.promptId);
  const queue = at < 0 ? [...state.queue, prompt] : state.queue.map((p, i) => (i === at ? prompt : p));
  return { ...state, queue };
}

export function promptClosed<S extends PromptQueue>(state: S, promptId: string): S {
  if (!state.queue.some((p) => p.promptId === promptId)) return state;
  return {
    ...state,
    queue: state.queue.filter((p) => p.promptId !== promptId),
    answering: state.answering === promptId ? null : state.answering,
  };
}

export function promptAnswering<S extends PromptQueue>(state: S, promptId: string): S {
  return state.queue.some((p) => p.promptId === promptId) ? { ...state, answering: promptId } : state;
}

/** The one prompt on screen. */
export function currentPrompt(state: PromptQueue): HostPrompt | null {
  return state.queue[0] ?? null;
}

/** `ssh-ed25519` → `ed25519`, `ecdsa-sha2-nistp256` → `ecdsa`, `ssh-rsa` → `rsa`: the host key file's name. */
export function keyFileSuffix(keyType: string): string {
  const type = keyType.toLowerCase();
  if (type.includes('ed25519')) return 'ed25519';
  if (type.includes('ecdsa')) return 'ecdsa';
  if (type.includes('rsa')) return 'rsa';
  return '*';
}
