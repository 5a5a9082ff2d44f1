import { describe, expect, it } from 'vitest';
import { PromptBroker } from '../../../../src/main/hosts/prompt-broker';
import { EventHub } from '../../../../src/main/rpc/contract-router';

const keyPrompt = { host: 'h100', address: '10.0.0.5:22', keyType: 'ssh-ed25519', fingerprint: 'SHA256:abc' };

function withPeer() {
  const events = new EventHub();
  const seen: Array<{ event: string; payload: unknown }> = [];
  events.attach((event, payload) => seen.push({ event, payload }));
  return { events, seen };
}

describe('PromptBroker', () => {
  it('asks every window and resolves with the first answer, then closes the prompt everywhere', async () => {
    const { events, seen } = withPeer();
    const broker = new PromptBroker(events);
    const decision = broker.confirmHostKey(keyPrompt);
    const asked = seen.find((s) => s.event === 'hosts.hostKeyPrompt')?.payload as { promptId: string };
    expect(asked).toMatchObject(keyPrompt);
    expect(broker.answerHostKey(asked.promptId, 'always')).toBe(true);
    expect(broker.answerHostKey(asked.promptId, 'refuse')).toBe(false);
    await expect(decision).resolves.toBe('always');
    expect(seen.at(-1)).toEqual({ event: 'hosts.promptClosed', payload: { promptId: asked.promptId } });
  });

  it('refuses a host key when no window is open to ask', async () => {
    const broker = new PromptBroker(new EventHub());
    await expect(broker.confirmHostKey(keyPrompt)).resolves.toBe('refuse');
    await expect(broker.askPassphrase({ host: 'h', keyPath: '/k', retry: false })).resolves.toBeUndefined();
  });

  it('refuses when nobody answers in time, and on dispose', async () => {
    const { events } = withPeer();
    const broker = new PromptBroker(events, 20);
    await expect(broker.confirmHostKey(keyPrompt)).resolves.toBe('refuse');
    const pending = broker.askPassphrase({ host: 'h', keyPath: '/k', retry: false });
    const slow = new PromptBroker(events);
    const open = slow.confirmHostKey(keyPrompt);
    slow.dispose();
    await expect(open).resolves.toBe('refuse');
    await expect(pending).resolves.toBeUndefined();
  });

  it('passes a passphrase through without keeping it', async () => {
    const { events, seen } = withPeer();
    const broker = new PromptBroker(events);
    const answer = broker.askPassphrase({ host: 'h', keyPath: '/home/ana/.ssh/id_ed25519', retry: true });
    const asked = seen.find((s) => s.event === 'hosts.passphrasePrompt')?.payload as {
      promptId: string;
      retry: boolean;
    };
    expect(asked.retry).toBe(true);
    broker.answerPassphrase(asked.promptId, 'correct horse');
    await expect(answer).resolves.toBe('correct horse');
    expect(JSON.stringify(seen)).not.toContain('correct horse');
  });
});
