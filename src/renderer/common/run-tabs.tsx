import { useEffect, useState, type ReactNode } from 'react';
import type { RunDetail, RunSummary } from '../../shared/contract';
import { useAppStore } from '../store/store-context';

/** What every tab of the run view gets. */
export interface RunTabProps {
  run: RunSummary;
  /** The run's record, once read (null while loading or when it could not be read). */
  detail: RunDetail | null;
  now: number;
  /** Shows another tab of this run's view (e.g. the terminal's "open Replay at that moment"). */
  selectTab?: (id: string) => void;
}

export interface RunTab {
  id: string;
  label: string;
  /** Tabs that make sense only for some runs (e.g. a live terminal while the run is on its host). */
  available?: (run: RunSummary) => boolean;
  render: (props: RunTabProps) => ReactNode;
}

/**
 * The tabs of one run's view, left to right. Each feature adds one entry here and keeps its view in its own file.
 * A tab's content is mounted only while it is selected.
 */
export function RunTabs({ tabs, ...props }: RunTabProps & { tabs: readonly RunTab[] }) {
  const shown = tabs.filter((t) => t.available?.(props.run) ?? true);
  const [selected, setSelected] = useState(shown[0]?.id ?? '');
  // Evidence a flag asked to open in another tab of this run (nav slice): show that tab, which applies it.
  const evidence = useAppStore((s) => (s.nav.evidence?.runId === props.run.id ? s.nav.evidence : null));
  const evidenceShown = useAppStore((s) => s.nav.evidenceShown);
  const evidenceTabShown = evidence !== null && shown.some((t) => t.id === evidence.tab);
  const [evidenceSeq, setEvidenceSeq] = useState(0);
  if (evidence && evidence.seq !== evidenceSeq) {
    setEvidenceSeq(evidence.seq);
    if (evidenceTabShown) setSelected(evidence.tab);
  }
  // A tab this run does not have (an imported run's Datasets) drops the request.
  useEffect(() => {
    if (evidence && !evidenceTabShown) evidenceShown(evidence.seq);
  }, [evidence, evidenceTabShown, evidenceShown]);
  const current = shown.find((t) => t.id === selected) ?? shown[0];
  if (!current) return null;
  return (
    <div className="run-tabs">
      <div className="tab-bar" role="tablist" aria-label="Run views">
        {shown.map((tab) => (
          <button
            key={tab.id}
            type="button"
            role="tab"
            id={`run-tab-${tab.id}`}
            aria-selected={tab.id === current.id}
            aria-controls={`run-tabpanel-${tab.id}`}
            className={`tab${tab.id === current.id ? ' tab-selected' : ''}`}
            data-testid={`run-tab-${tab.id}`}
            onClick={() => setSelected(tab.id)}
          >
            {tab.label}
          </button>
        ))}
      </div>
      <div
        className="tab-panel"
        role="tabpanel"
        id={`run-tabpanel-${current.id}`}
        aria-labelledby={`run-tab-${current.id}`}
        data-testid={`run-tabpanel-${current.id}`}
      >
        {current.render({ ...props, selectTab: setSelected })}
      </div>
    </div>
  );
}
