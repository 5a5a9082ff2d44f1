import { describe, expect, it } from 'vitest';
import { createAppStore } from '../../../../../src/renderer/store/app-store';
import { currentPrompt } from '../../../../../src/renderer/common/host-prompts';
import type { Result } from '../../../../../src/shared/errors';
import { deferred, fakeClient } from '../../fakes';

const hostKeyPrompt = {
  promptId: 'k1',
  host: 'gpu1',
  address: '127.0.0.1:40022',
  keyType: 'ssh-ed25519',
  fingerprint: 'SHA256:Zm9v',
};
const passphrasePrompt = { promptId: 'p1', host: 'gpu1', keyPath: '/home/u/.ssh/id_ed25519', retry: false };

function setup(overrides: Parameters<typeof fakeClient>[0] = {}) {
  const fake = fakeClient(overrides);
  const store = createAppStore(fake.client, { shell: { kind: 'electron' } });
  return { store, prompts: () => store.getState().prompts, ...fake };
}

describe('prompts slice', () => {
  it('queues host-key and passphrase prompts from events and closes them on hosts.promptClosed', () => {
    const { emit, prompts } = setup();
    emit('hosts.hostKeyPrompt', hostKeyPrompt);
    emit('hosts.passphrasePrompt', passphrasePrompt);
    expect(currentPrompt(prompts())).toEqual({ kind: 'hostKey', ...hostKeyPrompt });
    emit('hosts.promptClosed', { promptId: 'k1' });
    expect(currentPrompt(prompts())).toEqual({ kind: 'passphrase', ...passphrasePrompt });
    emit('hosts.promptClosed', { promptId: 'p1' });
    expect(currentPrompt(prompts())).toBeNull();
  });

  it('answers a host key and closes the dialog when the reply comes', async () => {
    const reply = deferred<Result<{ accepted: boolean }>>();
    const { store, emit, prompts, calls } = setup({ 'hosts.answerHostKey': () => reply.promise });
    emit('hosts.hostKeyPrompt', hostKeyPrompt);
    const answering = store.getState().prompts.answerHostKey('k1', 'always');
    expect(calls.at(-1)).toEqual({ command: 'hosts.answerHostKey', input: { promptId: 'k1', decision: 'always' } });
    expect(prompts().answering).toBe('k1');
    reply.resolve({ ok: true, data: { accepted: true } });
    await answering;
    expect(prompts().queue).toEqual([]);
    expect(prompts().answering).toBeNull();
  });

  it('sends a passphrase, or none to skip the key, and never keeps it', async () => {
    const { store, emit, prompts, calls } = setup({
      'hosts.answerPassphrase': () => ({ ok: true, data: { accepted: true } }),
    });
    emit('hosts.passphrasePrompt', passphrasePrompt);
    await store.getState().prompts.answerPassphrase('p1', 'hunter2');
    expect(calls.at(-1)).toEqual({
      command: 'hosts.answerPassphrase',
      input: { promptId: 'p1', passphrase: 'hunter2' },
    });
    expect(JSON.stringify(store.getState())).not.toContain('hunter2');
    emit('hosts.passphrasePrompt', { ...passphrasePrompt, promptId: 'p2', retry: true });
    await store.getState().prompts.answerPassphrase('p2', undefined);
    expect(calls.at(-1)).toEqual({ command: 'hosts.answerPassphrase', input: { promptId: 'p2' } });
    expect(prompts().queue).toEqual([]);
  });

  it('closes the dialog and reports when the answer cannot be sent', async () => {
    const { store, emit, prompts } = setup({
      'hosts.answerHostKey': () => ({
        ok: false,
        error: { code: 'TRANSPORT_CLOSED', message: 'Connection closed', retryable: true },
      }),
    });
    emit('hosts.hostKeyPrompt', hostKeyPrompt);
    await store.getState().prompts.answerHostKey('k1', 'refuse');
    expect(prompts().queue).toEqual([]);
    expect(store.getState().app.errors[0]).toMatchObject({ source: 'Answering the host-key question' });
  });
});
