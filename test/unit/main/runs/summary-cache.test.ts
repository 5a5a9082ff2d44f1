// The run list's summaries over real run folders: the parts of task and agent apart, the flagged verdict (ours, else
// an imported PostTrainBench judge's), and the cache of finished runs' summaries that must follow every file change.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunService } from '../../../../src/main/runs/run-service';
import { generatedRun, writeGeneratedRuns } from '../../../support/generated-runs';

let home: string;
let service: RunService;

beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'ptw-summary-cache-'));
  service = new RunService({
    home,
    session: () => Promise.reject(new Error('no host may be contacted for an imported run')),
    profile: () => Promise.reject(new Error('no profile')),
    profiles: async () => [],
    secrets: { get: async () => undefined },
    appVersion: 'test',
    by: 'test',
  });
});

afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('run summaries for the run list', () => {
  it('carry the benchmark, base model, agent, agent model and integrity verdict apart', async () => {
    const written = await writeGeneratedRuns(path.join(home, 'runs'), 6);
    const list = await service.list();
    expect(list).toHaveLength(6);
    const flaggedRun = written.find((r) => r.flagged)!;
    expect(list.find((r) => r.id === flaggedRun.id)).toMatchObject({
      benchmark: flaggedRun.benchmark,
      baseModel: flaggedRun.baseModel.split('/')[1],
      agentId: flaggedRun.agent,
      agentModel: flaggedRun.model,
      flagged: true,
      task: `${flaggedRun.benchmark} · ${flaggedRun.baseModel.split('/')[1]}`,
    });
    expect(list.filter((r) => r.flagged === false)).toHaveLength(5);
  });

  it('carry the experiment that queued the run from run.json, and ignore one that does not read as { id, name }', async () => {
    await writeGeneratedRuns(path.join(home, 'runs'), 3);
    const edit = async (i: number, experiment: unknown) => {
      const file = path.join(home, 'runs', generatedRun(i).id, 'run.json');
      const runJson = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      await writeFile(file, JSON.stringify({ ...runJson, experiment }));
    };
    await edit(0, { id: 'exp-20260101-120000-abc123', name: 'qwen sweep' });
    await edit(1, { id: 7 });
    const list = await service.list();
    const byId = (i: number) => list.find((r) => r.id === generatedRun(i).id)!;
    expect(byId(0).experiment).toEqual({ id: 'exp-20260101-120000-abc123', name: 'qwen sweep' });
    // The rest of that run.json still reads: the run is listed with its task, not as unreadable.
    expect(byId(1)).toMatchObject({ status: generatedRun(1).status, benchmark: generatedRun(1).benchmark });
    expect(byId(1).experiment).toBeUndefined();
    expect(byId(2).experiment).toBeUndefined();
  });

  it('follow changes to a finished run’s files, and drop a removed run', async () => {
    await writeGeneratedRuns(path.join(home, 'runs'), 3);
    const first = generatedRun(0);
    const dir = path.join(home, 'runs', first.id);
    expect((await service.list()).find((r) => r.id === first.id)?.flagged).toBe(false);
    // Held: the same files give the same summary object.
    const again = await service.list();
    expect(again.find((r) => r.id === first.id)).toBe((await service.list()).find((r) => r.id === first.id));

    await writeFile(path.join(dir, 'integrity', 'verdict.json'), JSON.stringify({ verdict: 'flagged', flags: [] }));
    expect((await service.list()).find((r) => r.id === first.id)?.flagged).toBe(true);
    await rm(path.join(dir, 'integrity', 'verdict.json'));
    // No verdict of ours and no PostTrainBench record: not checked.
    expect((await service.list()).find((r) => r.id === first.id)?.flagged).toBeNull();

    const runJson = JSON.parse(await readFile(path.join(dir, 'run.json'), 'utf8')) as { spec: { label: string } };
    runJson.spec.label = 'renamed';
    await writeFile(path.join(dir, 'run.json'), JSON.stringify(runJson));
    expect((await service.list()).find((r) => r.id === first.id)?.label).toBe('renamed');

    const state = JSON.parse(await readFile(path.join(dir, 'state.json'), 'utf8')) as { status: string };
    state.status = 'failed';
    await writeFile(path.join(dir, 'state.json'), JSON.stringify(state));
    expect((await service.list()).find((r) => r.id === first.id)?.status).toBe('failed');

    await rm(dir, { recursive: true });
    expect((await service.list()).map((r) => r.id)).not.toContain(first.id);
  });
});
