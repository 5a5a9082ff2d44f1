import path from 'node:path';
import { z } from 'zod';
import { hostProfileSchema, type HostProfile, type HostProfileInput } from '../../shared/hosts';
import { AppError } from '../../shared/errors';
import { readJsonFile, writeJsonFileAtomic } from './ptw-home';

const hostsFileSchema = z.object({ hosts: z.array(hostProfileSchema) });

/** Host profiles saved in `PTW_HOME/hosts.json`. Writes are serialised so concurrent edits never lose one. */
export class HostStore {
  readonly file: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(home: string) {
    this.file = path.join(home, 'hosts.json');
  }

  async list(): Promise<HostProfile[]> {
    const raw = await readJsonFile(this.file);
    if (raw === undefined) return [];
    const parsed = hostsFileSchema.safeParse(raw);
    if (!parsed.success) {
      throw new AppError(
        'CONFLICT',
        `${this.file} is not a valid hosts file: ${parsed.error.message}. Fix or remove it.`,
      );
    }
    return parsed.data.hosts;
  }

  async get(name: string): Promise<HostProfile> {
    const host = (await this.list()).find((h) => h.name === name);
    if (!host) throw new AppError('NOT_FOUND', `No host named '${name}'. \`ptw host ls\` lists the saved hosts.`);
    return host;
  }

  /** Adds profiles, replacing any with the same name. */
  upsert(profiles: HostProfileInput[]): Promise<HostProfile[]> {
    return this.serialise(async () => {
      const parsed = profiles.map((p) => hostProfileSchema.parse(p));
      const byName = new Map((await this.list()).map((h) => [h.name, h]));
      for (const p of parsed) byName.set(p.name, p);
      await writeJsonFileAtomic(this.file, { hosts: [...byName.values()] });
      return parsed;
    });
  }

  remove(name: string): Promise<boolean> {
    return this.serialise(async () => {
      const hosts = await this.list();
      const rest = hosts.filter((h) => h.name !== name);
      if (rest.length === hosts.length) return false;
      await writeJsonFileAtomic(this.file, { hosts: rest });
      return true;
    });
  }

  private serialise<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/** `user@host:port` as a person would type it to ssh. */
export function formatSshAddress(host: {
  hostname?: string | undefined;
  name: string;
  user?: string | undefined;
  port?: number | undefined;
}): string {
  const user = host.user ? `${host.user}@` : '';
  const port = host.port && host.port !== 22 ? `:${host.port}` : '';
  return `${user}${host.hostname ?? host.name}${port}`;
}
