import type { EvidenceTarget } from '../../common/evidence-target';
import type { SliceUpdate } from '../slice';

export const sections = ['hosts', 'runs', 'experiments', 'leaderboard'] as const;
export type Section = (typeof sections)[number];

/** A request to open evidence (issue 13), numbered so the same target can be asked for twice. */
export type EvidenceRequest = EvidenceTarget & { readonly seq: number };

export interface NavSlice {
  readonly section: Section;
  /**
   * Evidence a flag asked to open: the run view shows the target's tab, which applies it and calls `evidenceShown`.
   * Features do not import each other; this is how the Integrity tab sends the user to another tab.
   */
  readonly evidence: EvidenceRequest | null;
  setSection(section: Section): void;
  openEvidence(target: EvidenceTarget): void;
  /** The tab applied request `seq` (a later request is kept). */
  evidenceShown(seq: number): void;
}

export function createNavSlice(update: SliceUpdate<NavSlice>): NavSlice {
  let seq = 0;
  return {
    section: 'hosts',
    evidence: null,
    setSection: (section) => update((nav) => ({ ...nav, section })),
    openEvidence: (target) => update((nav) => ({ ...nav, section: 'runs', evidence: { ...target, seq: ++seq } })),
    evidenceShown: (shown) => update((nav) => (nav.evidence?.seq === shown ? { ...nav, evidence: null } : nav)),
  };
}
