import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentSecretStore, type OsEncryption } from '../../../../src/main/secrets/secret-store';

/** A reversible stand-in for the OS keychain: what matters here is that plain text never reaches the file. */
const xorEncryption: OsEncryption = {
  isEncryptionAvailable: () => true,
  encryptString: (plain) => Buffer.from([...Buffer.from(plain)].map((b) => b ^ 0x5a)),
  decryptString: (blob) => Buffer.from([...blob].map((b) => b ^ 0x5a)).toString(),
};

describe('AgentSecretStore', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'ptw-secrets-'));
  });
  afterEach(async () => rm(home, { recursive: true, force: true }));

  it('reads PTW_SECRET_<NAME> from the environment first', async () => {
    const store = new AgentSecretStore(home, { PTW_SECRET_OPENAI_API_KEY: 'sk-env-123456789' }, xorEncryption);
    await store.set('OPENAI_API_KEY', 'sk-keychain-987654321');
    expect(await store.get('OPENAI_API_KEY')).toEqual({ value: 'sk-env-123456789', source: 'environment' });
    expect(await store.status(['OPENAI_API_KEY', 'GEMINI_API_KEY'])).toEqual([
      { name: 'OPENAI_API_KEY', source: 'environment' },
      { name: 'GEMINI_API_KEY', source: null },
    ]);
  });

  it('keeps keychain secrets encrypted on disk', async () => {
    const store = new AgentSecretStore(home, {}, xorEncryption);
    await store.set('ANTHROPIC_API_KEY', 'sk-ant-secret-value-1');
    const onDisk = await readFile(path.join(home, 'secrets.json'), 'utf8');
    expect(onDisk).not.toContain('sk-ant-secret-value-1');
    expect(await new AgentSecretStore(home, {}, xorEncryption).get('ANTHROPIC_API_KEY')).toEqual({
      value: 'sk-ant-secret-value-1',
      source: 'keychain',
    });
    expect(await store.delete('ANTHROPIC_API_KEY')).toBe(true);
    expect(await store.get('ANTHROPIC_API_KEY')).toBeUndefined();
  });

  it('refuses to store without OS encryption and points to the environment instead', async () => {
    const store = new AgentSecretStore(home, {});
    expect(store.writable).toBe(false);
    await expect(store.set('GEMINI_API_KEY', 'x'.repeat(20))).rejects.toThrow(/PTW_SECRET_GEMINI_API_KEY/);
  });

  it('rejects names that are not environment-variable names', async () => {
    const store = new AgentSecretStore(home, {});
    await expect(store.get('not a name')).rejects.toThrow();
  });
});
