import { describe, expect, it } from 'vitest';
import {
  checkTally,
  emptyPreflightRun,
  lastCheckReceived,
  preflightFinished,
  preflightOverall,
  preflightProgress,
  preflightProgressReceived,
  preflightStarted,
  stalePreflights,
  type PreflightRun,
} from '../../../../src/renderer/common/preflight-run';
import type { CheckStatus, PreflightCheck, PreflightReport } from '../../../../src/shared/hosts';
import { hostSummary } from '../fakes';

const check = (id: string, status: CheckStatus, extra: Partial<PreflightCheck> = {}): PreflightCheck => ({
  id,
  title: id.toUpperCase(),
  status,
  summary: '',
  details: [],
  ...extra,
});

const report = (checks: PreflightCheck[], finishedAt = '2026-11-23T12:00:05Z'): PreflightReport => ({
  host: 'gpu1',
  startedAt: '2026-11-23T12:00:00Z',
  finishedAt,
  checks,
  gpus: [],
  freeGpus: [],
  overall: 'fail',
});

const loaded = (r: PreflightReport | null): PreflightRun => lastCheckReceived(emptyPreflightRun, r);

describe('preflight progress merging', () => {
  it('fills the list in arrival order, replacing a check in place as it finishes', () => {
    let run = preflightStarted(loaded(null));
    expect(run).toMatchObject({ running: true, ownCall: true, checks: [] });
    run = preflightProgressReceived(run, check('ssh', 'running'));
    run = preflightProgressReceived(run, check('ssh', 'pass', { summary: 'OpenSSH 9.6', durationMs: 40 }));
    run = preflightProgressReceived(run, check('docker', 'running'));
    expect(run.checks.map((c) => [c.id, c.status])).toEqual([
      ['ssh', 'pass'],
      ['docker', 'running'],
    ]);
    expect(run.checks[0]?.summary).toBe('OpenSSH 9.6');
    expect(preflightProgress(run)).toEqual({ done: 1, total: 2, totalKnown: false });
    expect(preflightOverall(run)).toBe('running');
  });

  it('knows the total from checks announced as pending', () => {
    let run = preflightStarted(loaded(null));
    for (const id of ['ssh', 'docker', 'gpus']) run = preflightProgressReceived(run, check(id, 'pending'));
    run = preflightProgressReceived(run, check('ssh', 'pass'));
    expect(run.checks.map((c) => c.id)).toEqual(['ssh', 'docker', 'gpus']);
    expect(preflightProgress(run)).toEqual({ done: 1, total: 3, totalKnown: true });
  });

  it('expects as many checks as the last report had', () => {
    const previous = report([check('ssh', 'pass'), check('docker', 'pass'), check('gpus', 'fail')]);
    let run = preflightStarted(loaded(previous));
    run = preflightProgressReceived(run, check('ssh', 'pass'));
    expect(preflightProgress(run)).toEqual({ done: 1, total: 3, totalKnown: true });
  });

  it('takes the report from the reply as the final word', () => {
    let run = preflightStarted(loaded(null));
    run = preflightProgressReceived(run, check('ssh', 'running'));
    const final = report([check('ssh', 'pass'), check('docker', 'fail', { fix: 'start dockerd' })]);
    run = preflightFinished(run, { ok: true, data: final });
    expect(run).toEqual({ loaded: true, running: false, ownCall: false, checks: final.checks, report: final });
    expect(preflightOverall(run)).toBe('fail');
  });

  it('on a failed call keeps what arrived, marks unfinished checks skipped, and keeps the last report', () => {
    const previous = report([check('ssh', 'pass')]);
    let run = preflightStarted(loaded(previous));
    run = preflightProgressReceived(run, check('ssh', 'running'));
    run = preflightFinished(run, {
      ok: false,
      error: { code: 'HOST_KEY_CHANGED', message: 'key changed', retryable: false },
    });
    expect(run.running).toBe(false);
    expect(run.checks).toEqual([check('ssh', 'skip')]);
    expect(run.report).toBe(previous);
  });

  it('starts a run when progress arrives for a check started elsewhere', () => {
    const run = preflightProgressReceived(loaded(null), check('ssh', 'running'));
    expect(run).toMatchObject({ running: true, ownCall: false, checks: [check('ssh', 'running')] });
    // Its end comes as a newer last check.
    const done = lastCheckReceived(run, report([check('ssh', 'pass')]));
    expect(done).toMatchObject({ running: false, checks: [check('ssh', 'pass')] });
  });

  it('a last-check reply never interrupts this window’s own run', () => {
    const run = preflightProgressReceived(preflightStarted(loaded(null)), check('ssh', 'running'));
    expect(lastCheckReceived(run, report([check('ssh', 'pass')]))).toBe(run);
  });

  it('a last-check reply with the same old report does not end a run started elsewhere', () => {
    const old = report([check('ssh', 'pass')]);
    const run = preflightProgressReceived(loaded(old), check('ssh', 'running'));
    expect(lastCheckReceived(run, old)).toBe(run);
    expect(lastCheckReceived(run, null)).toBe(run);
  });

  it('shows nothing as overall before any check ran', () => {
    expect(preflightOverall(loaded(null))).toBeNull();
    expect(loaded(null)).toMatchObject({ loaded: true, checks: [] });
  });
});

describe('stalePreflights', () => {
  const shown = loaded(report([check('ssh', 'pass')], '2026-11-23T12:00:05Z'));

  it('lists hosts whose last check changed elsewhere', () => {
    const runs = new Map([
      ['a', shown],
      ['b', shown],
    ]);
    const hosts = [
      hostSummary('a', { lastCheck: { overall: 'pass', finishedAt: '2026-11-23T12:00:05Z' } }),
      hostSummary('b', { lastCheck: { overall: 'fail', finishedAt: '2026-11-23T12:30:00Z' } }),
      hostSummary('c', { lastCheck: { overall: 'fail', finishedAt: '2026-11-23T12:30:00Z' } }),
    ];
    expect(stalePreflights(runs, hosts)).toEqual(['b']);
  });

  it('leaves this window’s own run alone and reloads one seen running elsewhere', () => {
    const own = preflightStarted(shown);
    const foreign = preflightProgressReceived(emptyPreflightRun, check('ssh', 'running'));
    const runs = new Map([
      ['own', own],
      ['foreign', foreign],
      ['unseen', emptyPreflightRun],
    ]);
    const newer = { lastCheck: { overall: 'pass' as const, finishedAt: '2026-11-23T13:00:00Z' } };
    const hosts = [hostSummary('own', newer), hostSummary('foreign', newer), hostSummary('unseen', newer)];
    expect(stalePreflights(runs, hosts)).toEqual(['foreign']);
  });
});

describe('checkTally', () => {
  it('counts outcomes, worst first, leaving out the ones that did not occur', () => {
    const checks = [check('a', 'pass'), check('b', 'fail'), check('c', 'warn'), check('d', 'pass'), check('e', 'skip')];
    expect(checkTally(checks)).toBe('1 failed · 1 warning · 2 passed · 1 skipped');
    expect(checkTally([check('a', 'pass'), check('b', 'warn'), check('c', 'warn')])).toBe('2 warnings · 1 passed');
    expect(checkTally([])).toBe('');
  });
});
