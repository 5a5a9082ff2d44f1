import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExperimentService } from '../../../../src/main/experiments/experiment-service';
import { AppError } from '../../../../src/shared/errors';
import { hostProfileSchema, type HostProfile } from '../../../../src/shared/hosts';

// What the service decides before it reaches any host: the preview, refusals, and an unknown id. Queuing on a real
// host is test/integration/experiment.test.ts.

const matrix = (hosts: string) => `name: unit
tasks: [rehearsal, gsm8k:Qwen3-4B-Base]
agents:
  - agent: rehearsal
seeds: 2
budget: 2h
hosts: [${hosts}]
`;

describe('ExperimentService without a host', () => {
  let home: string;
  let profiles: HostProfile[];
  let service: ExperimentService;
  const refusedSession = () => Promise.reject(new Error('no host is reached in these tests'));

  beforeEach(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'ptw-exp-unit-'));
    profiles = [
      hostProfileSchema.parse({ name: 'gpu1', kind: 'ssh', hostname: 'gpu1.example' }),
      hostProfileSchema.parse({ name: 'cluster', kind: 'ssh', hostname: 'login', scheduler: { kind: 'slurm' } }),
    ];
    service = new ExperimentService({
      home,
      launch: {
        session: refusedSession,
        profile: (name) => Promise.resolve(profiles.find((p) => p.name === name)!),
        secrets: { get: () => Promise.resolve(undefined) },
        resourcesDir: home,
        runsDir: path.join(home, 'runs'),
        appVersion: 'test',
      },
      profiles: () => Promise.resolve(profiles),
      onChanged: () => undefined,
      stopRun: () => Promise.resolve(),
    });
  });

  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('previews the run count and GPU-hours, or the problems by line', async () => {
    expect(await service.preview(matrix('gpu1'))).toMatchObject({ ok: true, name: 'unit', runs: 4, gpuHours: 8 });
    const bad = await service.preview(matrix('gpu1, gpu9'));
    expect(bad).toMatchObject({ ok: false, problems: [{ line: 7, path: 'hosts.1' }] });
  });

  it('refuses a matrix with problems, naming the file and line, and records nothing', async () => {
    const refused = await service.start(matrix('gpu9'), '/tmp/m.yaml').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('INVALID_INPUT');
    expect((refused as AppError).message).toMatch(/m\.yaml:7: hosts\.0: unknown host "gpu9"/);
    expect(await service.list()).toEqual([]);
  });

  it('without a SLURM backend (backendFor), refuses a SLURM host (its own queue) before reaching it', async () => {
    const refused = await service.start(matrix('cluster')).catch((e: unknown) => e);
    expect((refused as AppError).message).toMatch(/cluster is a SLURM cluster/);
    expect(await service.list()).toEqual([]);
  });

  it('says which experiment does not exist', async () => {
    const missing = await service.get('exp-20260101-000000-abcdef').catch((e: unknown) => e);
    expect((missing as AppError).code).toBe('NOT_FOUND');
    const malformed = await service.get('../../etc').catch((e: unknown) => e);
    expect((malformed as AppError).code).toBe('NOT_FOUND');
  });
});
