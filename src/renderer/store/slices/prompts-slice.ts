import type { AppErrorData, Result } from '../../../shared/errors';
import type { HostKeyDecision } from '../../../shared/hosts';
import type { ContractClient } from '../../../shared/rpc/contract-client';
import {
  emptyPromptQueue,
  promptAnswering,
  promptClosed,
  promptReceived,
  type HostPrompt,
  type PromptQueue,
} from '../../common/host-prompts';
import type { SliceUpdate } from '../slice';

/** Host-key and passphrase questions from main, answered through the dialogs at the app root. */
export interface PromptsSlice extends PromptQueue {
  receive(prompt: HostPrompt): void;
  /** Applies `hosts.promptClosed`: answered in another window, or timed out. */
  close(promptId: string): void;
  answerHostKey(promptId: string, decision: HostKeyDecision): Promise<void>;
  /** No passphrase means "skip this key". The passphrase is passed through, never stored. */
  answerPassphrase(promptId: string, passphrase: string | undefined): Promise<void>;
}

export function createPromptsSlice(
  client: ContractClient,
  update: SliceUpdate<PromptsSlice>,
  reportError: (source: string, error: AppErrorData) => void,
): PromptsSlice {
  // Whatever the reply, the question is over for this window: a refused answer means it was already
  // settled (elsewhere, or timed out), and a failed call leaves nothing the dialog could do.
  const answer = async (promptId: string, source: string, send: () => Promise<Result<unknown>>) => {
    update((state) => promptAnswering(state, promptId));
    const result = await send();
    update((state) => promptClosed(state, promptId));
    if (!result.ok) reportError(source, result.error);
  };
  return {
    ...emptyPromptQueue,
    receive: (prompt) => update((state) => promptReceived(state, prompt)),
    close: (promptId) => update((state) => promptClosed(state, promptId)),
    answerHostKey: (promptId, decision) =>
      answer(promptId, 'Answering the host-key question', () =>
        client.call('hosts.answerHostKey', { promptId, decision }),
      ),
    answerPassphrase: (promptId, passphrase) =>
      answer(promptId, 'Sending the passphrase', () =>
        client.call('hosts.answerPassphrase', passphrase === undefined ? { promptId } : { promptId, passphrase }),
      ),
  };
}
