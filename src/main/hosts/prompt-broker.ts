import { randomUUID } from 'node:crypto';
import type { HostKeyDecision, HostKeyPrompt, PassphrasePrompt } from '../../shared/hosts';
import type { EventHub } from '../rpc/contract-router';

interface Pending<T> {
  resolve(value: T): void;
  timer: NodeJS.Timeout;
}

/**
 * Questions the connection must ask a person (accept this host key? the passphrase for this key?),
 * sent to every window as events and answered by whichever window answers first. Nobody to ask (no
 * window open) or nobody answering in time means "refuse" / "skip the key": never a silent accept.
 */
export class PromptBroker {
  private readonly hostKeys = new Map<string, Pending<HostKeyDecision>>();
  private readonly passphrases = new Map<string, Pending<string | undefined>>();

  constructor(
    private readonly events: EventHub,
    private readonly timeoutMs = 5 * 60_000,
  ) {}

  confirmHostKey(prompt: Omit<HostKeyPrompt, 'promptId'>): Promise<HostKeyDecision> {
    return this.ask(this.hostKeys, 'refuse', (promptId) =>
      this.events.emit('hosts.hostKeyPrompt', { ...prompt, promptId }),
    );
  }

  askPassphrase(prompt: Omit<PassphrasePrompt, 'promptId'>): Promise<string | undefined> {
    return this.ask(this.passphrases, undefined, (promptId) =>
      this.events.emit('hosts.passphrasePrompt', { ...prompt, promptId }),
    );
  }

  answerHostKey(promptId: string, decision: HostKeyDecision): boolean {
    return this.settle(this.hostKeys, promptId, decision);
  }

  answerPassphrase(promptId: string, passphrase: string | undefined): boolean {
    return this.settle(this.passphrases, promptId, passphrase);
  }

  /** Abandons every open question (app quitting). */
  dispose(): void {
    for (const id of [...this.hostKeys.keys()]) this.settle(this.hostKeys, id, 'refuse');
    for (const id of [...this.passphrases.keys()]) this.settle(this.passphrases, id, undefined);
  }

  private ask<T>(table: Map<string, Pending<T>>, fallback: T, send: (promptId: string) => void): Promise<T> {
    if (this.events.peerCount === 0) return Promise.resolve(fallback);
    const promptId = randomUUID();
    return new Promise<T>((resolve) => {
      const timer = setTimeout(() => this.settle(table, promptId, fallback), this.timeoutMs);
      timer.unref();
      table.set(promptId, { resolve, timer });
      send(promptId);
    });
  }

  private settle<T>(table: Map<string, Pending<T>>, promptId: string, value: T): boolean {
    const pending = table.get(promptId);
    if (!pending) return false;
    table.delete(promptId);
    clearTimeout(pending.timer);
    pending.resolve(value);
    this.events.emit('hosts.promptClosed', { promptId });
    return true;
  }
}
