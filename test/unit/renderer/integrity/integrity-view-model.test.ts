import { describe, expect, it } from 'vitest';
import type { IntegrityState } from '../../../../src/shared/contract-integrity';
import {
  flagKey,
  flagsFirstSeen,
  verdictExitCode,
  verdictOf,
} from '../../../../src/shared/integrity/integrity-verdict';
import {
  evidenceView,
  flagViews,
  seenText,
  verdictText,
} from '../../../../src/renderer/integrity/integrity-view-model';

const checks = (status: 'pass' | 'flag' | 'not-run' = 'pass') =>
  (['contamination', 'model_substitution', 'eval_tampering', 'api_misuse'] as const).map((kind) => ({
    kind,
    status,
    reason: 'r',
  }));

function state(over: Partial<IntegrityState> = {}): IntegrityState {
  const flags = [
    { kind: 'untrained' as const, severity: 'info' as const, summary: 'equals the base', evidence: [] },
    {
      kind: 'contamination' as const,
      severity: 'high' as const,
      summary: '5 test item(s) of gsm8k found',
      evidence: [
        {
          type: 'test-item',
          file: 'workspace/data/train.jsonl',
          line: 51,
          item: 0,
          itemId: null,
          itemText: 'Janet’s   ducks lay 16 eggs',
          span: 'janet s ducks lay 16 eggs',
          coverage: 1,
          idf5: 0.97,
        },
      ],
    },
  ];
  return {
    runId: 'r-20260301-100000-abcd',
    record: {
      verdict: { run: 'r-20260301-100000-abcd', verdict: 'flagged', flags, checks: checks() },
      checkedAt: 0,
      where: 'host',
      source: 'gpu1:/runs/x',
      skipped: [],
      skippedCount: 0,
      seconds: 1,
      details: [],
      firstSeen: {},
    },
    decisions: [],
    judge: [],
    ...over,
  };
}

describe('integrity verdicts', () => {
  it('flagged on any high or medium flag; incomplete when a check did not run; clean otherwise', () => {
    const high = { kind: 'api_misuse' as const, severity: 'medium' as const, summary: 's', evidence: [] };
    const info = { kind: 'untrained' as const, severity: 'info' as const, summary: 's', evidence: [] };
    expect(verdictOf(checks(), [high])).toBe('flagged');
    expect(verdictOf(checks(), [info])).toBe('clean');
    expect(verdictOf([...checks().slice(1), { kind: 'contamination', status: 'not-run', reason: 'x' }], [info])).toBe(
      'incomplete',
    );
    expect(verdictOf(checks().slice(1), [])).toBe('incomplete');
    expect([verdictExitCode('clean'), verdictExitCode('flagged'), verdictExitCode('incomplete')]).toEqual([0, 1, 2]);
  });

  it('names a flag by kind and summary, stably', () => {
    const a = flagKey({ kind: 'contamination', summary: 'x' });
    expect(a).toMatch(/^contamination:[0-9a-f]{8}$/);
    expect(flagKey({ kind: 'contamination', summary: 'x' })).toBe(a);
    expect(flagKey({ kind: 'contamination', summary: 'y' })).not.toBe(a);
  });
});

describe('the Integrity tab view model', () => {
  it('orders flags by severity and attaches decisions', () => {
    const s = state();
    const key = flagKey(s.record!.verdict.flags[1]!);
    const views = flagViews({ ...s, decisions: [{ flag: key, decision: 'confirmed', note: 'yes', at: 1 }] });
    expect(views.map((v) => v.flag.severity)).toEqual(['high', 'info']);
    expect(views[0]!.decision?.decision).toBe('confirmed');
    expect(views[1]!.decision).toBeNull();
  });

  it('shows a test-item hit with its file, line, coverage and the matched span', () => {
    const v = evidenceView(state().record!.verdict.flags[1]!.evidence[0]!);
    expect(v.where).toBe('workspace/data/train.jsonl:51');
    expect(v.title).toBe('test item 0: 100% covered, IDF-weighted 5-grams 97%');
    expect(v.body).toBe('item:    Janet’s ducks lay 16 eggs\nmatched: janet s ducks lay 16 eggs');
    expect(evidenceView({ type: 'command', file: 'trace', line: 3, why: 'calls OpenAI', text: 'curl …' })).toEqual({
      where: 'trace:3',
      title: 'calls OpenAI',
      body: 'curl …',
    });
  });

  it("says when a flag's evidence appeared and when a pass first saw it", () => {
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(seenText({ at: 2_000, evidenceAt: 1_000 }, iso)).toBe(
      'evidence from 1970-01-01T00:00:01.000Z; first seen by a pass 1970-01-01T00:00:02.000Z',
    );
    expect(seenText({ at: 2_000, evidenceAt: null }, iso)).toBe('first seen by a pass 1970-01-01T00:00:02.000Z');
  });

  it("keeps when a flag was first seen across passes, with its evidence's earliest time", () => {
    const flag = state().record!.verdict.flags[1]!;
    const withTimes = {
      ...flag,
      evidence: [
        { ...flag.evidence[0]!, mtime: 500 },
        { type: 'x', mtime: 300 },
      ],
    };
    const first = flagsFirstSeen([withTimes], {}, 1_000);
    expect(first[flagKey(flag)]).toEqual({ at: 1_000, evidenceAt: 300 });
    expect(flagsFirstSeen([withTimes], first, 9_000)[flagKey(flag)]).toEqual({ at: 1_000, evidenceAt: 300 });
    expect(flagsFirstSeen([], first, 9_000)).toEqual({});
  });

  it('says the verdict in words', () => {
    expect(verdictText(state())).toBe('Flagged');
    expect(verdictText(state({ record: null }))).toBe('Not checked yet');
  });
});
