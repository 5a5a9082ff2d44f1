import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../../shared/errors';
import { readJsonFile, writeJsonFileAtomic } from '../services/ptw-home';

/** Secret names are environment-variable names, e.g. ANTHROPIC_API_KEY. */
export const secretNameSchema = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]*$/, 'an environment-variable name such as ANTHROPIC_API_KEY');

export type SecretSource = 'environment' | 'keychain';

export interface SecretStore {
  get(name: string): Promise<{ value: string; source: SecretSource } | undefined>;
  /** Names only; values never leave the store except into a sandbox's environment. */
  status(names: readonly string[]): Promise<Array<{ name: string; source: SecretSource | null }>>;
  set(name: string, value: string): Promise<void>;
  delete(name: string): Promise<boolean>;
  readonly writable: boolean;
}

/** The part of Electron's `safeStorage` the keychain store uses (injected, so it is testable without Electron). */
export interface OsEncryption {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

const keychainFileSchema = z.object({ secrets: z.record(z.string(), z.string()) });

/**
 * Secrets for agents: `PTW_SECRET_<NAME>` in the environment (CLI and serve mode) wins, then the OS keychain
 * through Electron's safeStorage, whose encrypted blobs live in `PTW_HOME/secrets.json`. Nothing is ever written
 * in plain text; without OS encryption the keychain is read-only and `set` says how to use the environment instead.
 */
export class AgentSecretStore implements SecretStore {
  private readonly file: string;

  constructor(
    home: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly encryption?: OsEncryption,
  ) {
    this.file = path.join(home, 'secrets.json');
  }

  get writable(): boolean {
    return this.encryption?.isEncryptionAvailable() ?? false;
  }

  async get(name: string): Promise<{ value: string; source: SecretSource } | undefined> {
    secretNameSchema.parse(name);
    const fromEnv = this.env[`PTW_SECRET_${name}`];
    if (fromEnv) return { value: fromEnv, source: 'environment' };
    if (!this.writable) return undefined;
    const blob = (await this.readFile())[name];
    if (blob === undefined) return undefined;
    try {
      return { value: this.encryption!.decryptString(Buffer.from(blob, 'base64')), source: 'keychain' };
    } catch (err) {
      throw new AppError(
        'CONFLICT',
        `The stored ${name} cannot be decrypted (${(err as Error).message}); set it again.`,
      );
    }
  }

  async status(names: readonly string[]): Promise<Array<{ name: string; source: SecretSource | null }>> {
    return Promise.all(names.map(async (name) => ({ name, source: (await this.get(name))?.source ?? null })));
  }

  async set(name: string, value: string): Promise<void> {
    secretNameSchema.parse(name);
    if (!this.writable) {
      throw new AppError(
        'CONFLICT',
        `No OS keychain is available here, so ${name} cannot be stored safely. Set PTW_SECRET_${name} in the environment of \`ptw\` instead.`,
      );
    }
    const secrets = await this.readFile();
    secrets[name] = this.encryption!.encryptString(value).toString('base64');
    await writeJsonFileAtomic(this.file, { secrets });
  }

  async delete(name: string): Promise<boolean> {
    const secrets = await this.readFile();
    if (!(name in secrets)) return false;
    delete secrets[name];
    await writeJsonFileAtomic(this.file, { secrets });
    return true;
  }

  private async readFile(): Promise<Record<string, string>> {
    const raw = await readJsonFile(this.file);
    if (raw === undefined) return {};
    const parsed = keychainFileSchema.safeParse(raw);
    if (!parsed.success)
      throw new AppError('CONFLICT', `${this.file} is not a valid secrets file; remove it and set the keys again.`);
    return { ...parsed.data.secrets };
  }
}
