import type { SliceUpdate } from '../slice';

export const sections = ['hosts', 'runs', 'leaderboard'] as const;
export type Section = (typeof sections)[number];

export interface NavSlice {
  readonly section: Section;
  setSection(section: Section): void;
}

export function createNavSlice(update: SliceUpdate<NavSlice>): NavSlice {
  return {
    section: 'hosts',
    setSection: (section) => update((nav) => ({ ...nav, section })),
  };
}
