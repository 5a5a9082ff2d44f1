import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalHostSession } from '../../../../src/main/hosts/local-host-session';
import type { RunMirror } from '../../../../src/main/runs/run-mirror';
import { RunService } from '../../../../src/main/runs/run-service';
import { SummaryCache } from '../../../../src/main/runs/summary-cache';
import type { RunSummary } from '../../../../src/shared/contract';
import { hostProfileSchema } from '../../../../src/shared/hosts';
import { writeGeneratedRuns } from '../../../support/generated-runs';

/**
 * The app's start: the background syncer finds a run that exists only on the host (here a `local` host, this
 * machine's own shell, with no Docker behind the socket) and brings a complete bundle of it home.
 */

const ID = 'r-20261123-120000-ab12';
let base: string;
let session: LocalHostSession;
let service: RunService | undefined;

beforeEach(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'ptw-service-'));
  session = new LocalHostSession(path.join(base, 'no-docker.sock'));
});

afterEach(async () => {
  await service?.dispose();
  session.dispose();
  await rm(base, { recursive: true, force: true });
});

async function hostRun(runRoot: string): Promise<string> {
  const dir = path.join(runRoot, ID);
  for (const sub of ['record', 'eval', '.supervisor', 'workspace/final_model']) {
    await mkdir(path.join(dir, sub), { recursive: true });
  }
  await writeFile(
    path.join(dir, 'run.json'),
    JSON.stringify({
      schema: 1,
      id: ID,
      createdAt: '2026-11-23T12:00:00.000Z',
      spec: { host: 'box', task: { kind: 'rehearsal' }, agent: { id: 'rehearsal' }, label: 'found' },
      specHash: 'x',
      supervisor: { agentContainerId: 'c0ffee', budgetSeconds: 300 },
    }),
  );
  await writeFile(
    path.join(dir, 'state.json'),
    JSON.stringify({
      status: 'scored',
      supervisorPid: 999_999,
      heartbeatAt: Date.now(),
      agentContainerId: 'c0ffee',
      startedAt: 1,
      deadline: 300_001,
      warningsSent: [],
      stoppedAt: 200_000,
      stopReason: 'agent-exited',
      exitCode: 0,
      evaluation: { attempts: 1, outcome: 'scored', metrics: { accuracy: 0.75 } },
    }),
  );
  await writeFile(path.join(dir, 'record', 'events.jsonl'), '{"t": 1, "type": "agent-started", "deadline": 2}\n');
  await writeFile(path.join(dir, 'record', 'terminal.cast'), '{"version": 2, "width": 80, "height": 24}\n');
  await writeFile(path.join(dir, 'eval', 'metrics.json'), '{"accuracy": 0.75}\n');
  await writeFile(path.join(dir, 'workspace', 'final_model', 'config.json'), '{}\n');
  return dir;
}

describe('RunService', () => {
  it('rediscovers runs on the hosts it has used at start, mirrors them and announces the list', async () => {
    const runRoot = path.join(base, 'host-runs');
    const hostDir = await hostRun(runRoot);
    const profile = hostProfileSchema.parse({ name: 'box', kind: 'local', runRoot });
    const announced: RunSummary[][] = [];
    service = new RunService({
      home: path.join(base, 'home'),
      session: async () => session,
      profile: async () => profile,
      profiles: async () => [profile],
      secrets: { get: async () => undefined },
      appVersion: '0.0.0',
      by: 'app',
      onChanged: (list) => announced.push(list),
    });
    service.startBackgroundSync({ intervalMs: 100, usedHosts: async () => ['box'] });
    const mirror = path.join(base, 'home', 'runs', ID);
    for (let i = 0; i < 100 && !existsSync(path.join(mirror, 'final-model-manifest.json')); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    for (let i = 0; i < 50 && announced.at(-1)?.[0]?.status !== 'scored'; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(announced.at(-1)).toEqual([
      expect.objectContaining({ id: ID, host: 'box', status: 'scored', score: 75, label: 'found', task: 'rehearsal' }),
    ]);
    expect(readFileSync(path.join(mirror, 'events.jsonl'))).toEqual(
      readFileSync(path.join(hostDir, 'record', 'events.jsonl')),
    );
    const detail = await service.get(ID);
    expect(detail).toMatchObject({ hostRunDir: hostDir, metrics: { accuracy: 0.75 }, finalModel: { exists: true } });
    expect(detail.events).toEqual([{ t: 1, type: 'agent-started', deadline: 2 }]);
    // Docker behind the socket is missing: reported, and the run folders were found anyway.
    const report = await service.discover('box');
    expect(report.found).toEqual([ID]);
    expect(report.problems.join('\n')).toContain('Docker on box could not be asked');
  });

  it('looks for runs it does not know with one discovery shared by the lookups that arrive together', async () => {
    const runRoot = path.join(base, 'host-runs');
    await hostRun(runRoot);
    const profile = hostProfileSchema.parse({ name: 'box', kind: 'local', runRoot });
    let discoveries = 0; // a discovery opens the host's session once
    service = new RunService({
      home: path.join(base, 'home'),
      session: async () => {
        discoveries++;
        return session;
      },
      profile: async () => profile,
      profiles: async () => [profile],
      secrets: { get: async () => undefined },
      appVersion: '0.0.0',
      by: 'app',
    });
    // As an experiment page asks: the run on the host and 19 that are nowhere (yet), all at once.
    const missing = Array.from({ length: 19 }, (_, i) => `r-20261123-120000-${String(i).padStart(4, '0')}`);
    const answers = await Promise.allSettled([ID, ...missing].map((id) => service!.summary(id)));
    expect(answers[0]).toMatchObject({ status: 'fulfilled', value: { id: ID } });
    for (const answer of answers.slice(1)) {
      expect(answer).toMatchObject({ status: 'rejected', reason: { code: 'NOT_FOUND' } });
    }
    // One discovery, and one more for the lookups that joined it after it had begun: not one per lookup.
    expect(discoveries).toBeGreaterThanOrEqual(1);
    expect(discoveries).toBeLessThanOrEqual(2);
  });

  it('announces a sync of one run by reading that run again, not every run', async () => {
    const runRoot = path.join(base, 'host-runs');
    await hostRun(runRoot);
    const home = path.join(base, 'home');
    const imported = await writeGeneratedRuns(path.join(home, 'runs'), 40);
    const profile = hostProfileSchema.parse({ name: 'box', kind: 'local', runRoot });
    // The real cache, counting the summaries asked of it (one per run read).
    const read: string[] = [];
    class CountingCache extends SummaryCache {
      override summary(mirror: RunMirror, make: () => Promise<RunSummary>): Promise<RunSummary> {
        read.push(mirror.id);
        return super.summary(mirror, make);
      }
    }
    const announced: RunSummary[][] = [];
    const recordChanged: string[] = [];
    const announcement = async (count: number) => {
      for (let i = 0; i < 100 && announced.length < count; i++) await new Promise((r) => setTimeout(r, 50));
      expect(announced).toHaveLength(count);
      return announced.at(-1)!;
    };
    service = new RunService({
      home,
      session: async () => session,
      profile: async () => profile,
      profiles: async () => [profile],
      secrets: { get: async () => undefined },
      appVersion: '0.0.0',
      by: 'app',
      onChanged: (list) => announced.push(list),
      summaryCache: new CountingCache(),
      onRecordChanged: (id) => recordChanged.push(id),
    });
    // Found on the host: the first announcement reads every run.
    expect((await service.discover('box')).mirrored).toEqual([ID]);
    const first = await announcement(1);
    expect(first).toHaveLength(41);
    expect(first.find((r) => r.id === ID)?.status).toBe('starting');
    expect(new Set(read).size).toBe(41);

    read.length = 0;
    recordChanged.length = 0;
    expect((await service.sync(ID)).changed).toBe(true);
    // Told, so that Replay indexes the cast's new part now rather than at the first open.
    expect(recordChanged).toEqual([ID]);
    const second = await announcement(2);
    expect(read).toEqual([ID]);
    expect(second).toHaveLength(41);
    expect(second.find((r) => r.id === ID)).toMatchObject({ status: 'scored', score: 75 });
    // The other runs are the ones announced before, in the same order.
    expect(second.filter((r) => r.id !== ID)).toEqual(first.filter((r) => r.id !== ID));
    expect(second.map((r) => r.id)).toEqual(first.map((r) => r.id));
    expect(imported.every((run) => second.some((r) => r.id === run.id && r.status === run.status))).toBe(true);
  });
});
