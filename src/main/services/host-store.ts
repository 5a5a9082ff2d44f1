import path from 'node:path';
import { z } from 'zod';
import type { HostSummary } from '../../shared/contract';
import { AppError } from '../../shared/errors';
import { readJsonFile } from './ptw-home';

/** The saved host profile. The hosts feature extends this (identity, jump chain, run root). */
export const hostProfileSchema = z.object({
  name: z.string().min(1),
  kind: z.enum(['ssh', 'local']),
  hostname: z.string().optional(),
  user: z.string().optional(),
  port: z.number().int().positive().optional(),
  dockerSocket: z.string().optional(),
});
export type HostProfile = z.infer<typeof hostProfileSchema>;

const hostsFileSchema = z.object({ hosts: z.array(hostProfileSchema) });

/** Host profiles saved in `PTW_HOME/hosts.json`. */
export class HostStore {
  private readonly file: string;

  constructor(home: string) {
    this.file = path.join(home, 'hosts.json');
  }

  async list(): Promise<HostProfile[]> {
    const raw = await readJsonFile(this.file);
    if (raw === undefined) return [];
    const parsed = hostsFileSchema.safeParse(raw);
    if (!parsed.success)
      throw new AppError('CONFLICT', `${this.file} is not a valid hosts file: ${parsed.error.message}`);
    return parsed.data.hosts;
  }

  async summaries(): Promise<HostSummary[]> {
    return (await this.list()).map(toSummary);
  }
}

export function toSummary(host: HostProfile): HostSummary {
  if (host.kind === 'local')
    return { name: host.name, kind: 'local', address: host.dockerSocket ?? '/var/run/docker.sock' };
  const user = host.user ? `${host.user}@` : '';
  const port = host.port && host.port !== 22 ? `:${host.port}` : '';
  return { name: host.name, kind: 'ssh', address: `${user}${host.hostname ?? host.name}${port}` };
}
