import { describe, expect, it } from 'vitest';
import {
  currentPrompt,
  emptyPromptQueue,
  keyFileSuffix,
  promptAnswering,
  promptClosed,
  promptReceived,
  type HostPrompt,
} from '../../../../src/renderer/common/host-prompts';

const hostKey = (promptId: string): HostPrompt => ({
  kind: 'hostKey',
  promptId,
  host: 'gpu1',
  address: '127.0.0.1:40022',
  keyType: 'ssh-ed25519',
  fingerprint: 'SHA256:abc',
});
const passphrase = (promptId: string, retry = false): HostPrompt => ({
  kind: 'passphrase',
  promptId,
  host: 'gpu1',
  keyPath: '~/.ssh/id_ed25519',
  retry,
});

describe('prompt queue', () => {
  it('shows prompts one at a time in arrival order', () => {
    let state = promptReceived(emptyPromptQueue, hostKey('k1'));
    state = promptReceived(state, passphrase('p1'));
    expect(currentPrompt(state)?.promptId).toBe('k1');
    state = promptClosed(state, 'k1');
    expect(currentPrompt(state)?.promptId).toBe('p1');
    state = promptClosed(state, 'p1');
    expect(currentPrompt(state)).toBeNull();
  });

  it('replaces a prompt with the same id in place', () => {
    let state = promptReceived(emptyPromptQueue, passphrase('p1'));
    state = promptReceived(state, hostKey('k1'));
    state = promptReceived(state, passphrase('p1', true));
    expect(state.queue.map((p) => p.promptId)).toEqual(['p1', 'k1']);
    expect(currentPrompt(state)).toMatchObject({ kind: 'passphrase', retry: true });
  });

  it('closing an unknown prompt (answered before it arrived here) changes nothing', () => {
    const state = promptReceived(emptyPromptQueue, hostKey('k1'));
    expect(promptClosed(state, 'zzz')).toBe(state);
  });

  it('tracks the answer in flight and forgets it when the prompt closes', () => {
    let state = promptAnswering(promptReceived(emptyPromptQueue, hostKey('k1')), 'k1');
    expect(state.answering).toBe('k1');
    expect(promptAnswering(state, 'gone')).toBe(state);
    state = promptClosed(state, 'k1');
    expect(state).toEqual(emptyPromptQueue);
  });
});

describe('keyFileSuffix', () => {
  it('names the host key file for the key type', () => {
    expect(keyFileSuffix('ssh-ed25519')).toBe('ed25519');
    expect(keyFileSuffix('ecdsa-sha2-nistp256')).toBe('ecdsa');
    expect(keyFileSuffix('rsa-sha2-512')).toBe('rsa');
    expect(keyFileSuffix('sk-ssh-ed25519@openssh.com')).toBe('ed25519');
    expect(keyFileSuffix('weird')).toBe('*');
  });
});
