import type { ReactNode } from 'react';
import { useAppStore } from '../store/store-context';
import { sections, type Section } from '../store/slices/nav-slice';
import { ConnectionFooter } from './connection-footer';
import { BrandMark, ExperimentsIcon, HostsIcon, LeaderboardIcon, RunsIcon } from './icons';
import { ThemeSelector } from './theme-selector';

const sectionLabels: Record<Section, { label: string; icon: ReactNode }> = {
  hosts: { label: 'Hosts', icon: <HostsIcon /> },
  runs: { label: 'Runs', icon: <RunsIcon /> },
  experiments: { label: 'Experiments', icon: <ExperimentsIcon /> },
  leaderboard: { label: 'Leaderboard', icon: <LeaderboardIcon /> },
};

export function Sidebar() {
  const current = useAppStore((s) => s.nav.section);
  const setSection = useAppStore((s) => s.nav.setSection);
  return (
    <aside className="sidebar">
      <div className="brand">
        <BrandMark />
        <span className="brand-name">PostTrain Workbench</span>
      </div>
      <nav className="nav" aria-label="Sections">
        <ul className="nav-list">
          {sections.map((section) => (
            <li key={section}>
              <button
                type="button"
                className="nav-item"
                data-testid={`nav-${section}`}
                aria-current={section === current ? 'page' : undefined}
                onClick={() => setSection(section)}
              >
                {sectionLabels[section].icon}
                <span>{sectionLabels[section].label}</span>
              </button>
            </li>
          ))}
        </ul>
      </nav>
      <div className="sidebar-footer">
        <ThemeSelector />
        <ConnectionFooter />
      </div>
    </aside>
  );
}
