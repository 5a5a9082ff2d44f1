import {
  checkKindSchema,
  integrityCheckSchema,
  integrityFlagSchema,
  type IntegrityCheck,
  type IntegrityFlag,
  type IntegrityVerdict,
} from '../contract-integrity';

/**
 * From the host helper's report to the verdict: `flagged` when any flag is high or medium, else `incomplete` when a
 * check could not run (never a silent pass), else `clean`. Pure, shared by main (which stores it) and tests.
 */

export function verdictOf(
  checks: readonly IntegrityCheck[],
  flags: readonly IntegrityFlag[],
): IntegrityVerdict['verdict'] {
  if (flags.some((f) => f.severity === 'high' || f.severity === 'medium')) return 'flagged';
  const ran = new Set(checks.filter((c) => c.status !== 'not-run').map((c) => c.kind));
  if (checkKindSchema.options.some((kind) => !ran.has(kind))) return 'incomplete';
  return 'clean';
}

/** What the helper printed, checked: malformed checks or flags are an error, never dropped silently. */
export interface HelperReport {
  checks: IntegrityCheck[];
  flags: IntegrityFlag[];
  details: Record<string, unknown>[];
  skipped: { file: string; reason: string }[];
  skippedCount: number;
  seconds: number;
}

export function parseHelperReport(raw: unknown): HelperReport {
  if (!raw || typeof raw !== 'object') throw new Error('the integrity helper printed no report object');
  const r = raw as Record<string, unknown>;
  if (!Array.isArray(r.checks) || !Array.isArray(r.flags))
    throw new Error('the integrity report has no checks or flags');
  const details = r.checks.filter((c): c is Record<string, unknown> => !!c && typeof c === 'object');
  const checks = details.map((c, i) => {
    const parsed = integrityCheckSchema.safeParse({ kind: c.kind, status: c.status, reason: c.reason });
    if (!parsed.success) throw new Error(`integrity check ${i} is malformed: ${parsed.error.message}`);
    return parsed.data;
  });
  // Every check is reported, even one the helper did not get to: a missing one is not-run, with why.
  for (const kind of checkKindSchema.options) {
    if (!checks.some((c) => c.kind === kind)) {
      checks.push({ kind, status: 'not-run', reason: 'the helper did not report this check' });
    }
  }
  const flags = r.flags.map((f, i) => {
    const parsed = integrityFlagSchema.safeParse(f);
    if (!parsed.success) throw new Error(`integrity flag ${i} is malformed: ${parsed.error.message}`);
    return parsed.data;
  });
  const skipped = Array.isArray(r.skipped)
    ? r.skipped
        .filter((s): s is { file: unknown; reason: unknown } => !!s && typeof s === 'object')
        .map((s) => ({ file: String(s.file), reason: String(s.reason) }))
    : [];
  return {
    checks,
    flags,
    details: details.map((d) => ({ ...d })),
    skipped,
    skippedCount: typeof r.skippedCount === 'number' ? r.skippedCount : skipped.length,
    seconds: typeof r.seconds === 'number' ? r.seconds : 0,
  };
}

/** A flag's stable name for decisions: its kind and an FNV-1a hash of its summary. */
export function flagKey(flag: Pick<IntegrityFlag, 'kind' | 'summary'>): string {
  let h = 2166136261;
  for (let i = 0; i < flag.summary.length; i++) {
    h ^= flag.summary.charCodeAt(i);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return `${flag.kind}:${h.toString(16).padStart(8, '0')}`;
}

/** The CLI's exit code: 0 clean, 1 flagged, 2 could not check. */
export function verdictExitCode(verdict: IntegrityVerdict['verdict']): 0 | 1 | 2 {
  return verdict === 'clean' ? 0 : verdict === 'flagged' ? 1 : 2;
}

/**
 * When each flag was first seen: kept from the previous pass for a flag it already had, now for a new one; the
 * evidence's earliest time (file mtime or trace line, host clock) beside it. Flags gone since are dropped.
 */
export function flagsFirstSeen(
  flags: readonly IntegrityFlag[],
  previous: Readonly<Record<string, { at: number; evidenceAt: number | null }>>,
  now: number,
): Record<string, { at: number; evidenceAt: number | null }> {
  const out: Record<string, { at: number; evidenceAt: number | null }> = {};
  for (const flag of flags) {
    const key = flagKey(flag);
    let evidenceAt: number | null = null;
    for (const e of flag.evidence) {
      if (typeof e.mtime === 'number' && e.mtime > 0 && (evidenceAt === null || e.mtime < evidenceAt))
        evidenceAt = e.mtime;
    }
    const before = previous[key];
    out[key] = { at: before?.at ?? now, evidenceAt: before?.evidenceAt ?? evidenceAt };
  }
  return out;
}
