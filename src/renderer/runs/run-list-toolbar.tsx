import { useMemo } from 'react';
import type { RunSummary } from '../../shared/contract';
import {
  DEFAULT_RUN_QUERY,
  facetOptions,
  facetText,
  NO_VALUE,
  queryFilters,
  RUN_FACET_LABELS,
  RUN_FACETS,
  type FlaggedFilter,
  type RunFacet,
  type RunGrouping,
  type RunQuery,
} from '../common/run-query';
import type { RunsLayout } from '../store/slices/runs-slice';

const FLAGGED_CHOICES: ReadonlyArray<readonly [FlaggedFilter, string]> = [
  ['any', 'Integrity: any'],
  ['flagged', 'flagged'],
  ['clean', 'clean'],
  ['unchecked', 'not checked'],
];

const GROUP_CHOICES: ReadonlyArray<readonly [RunGrouping, string]> = [
  ['none', 'No grouping'],
  ['experiment', 'Group by experiment'],
  ['agent', 'Group by agent'],
];

/** A menu of fixed choices. */
function Choice<T extends string>({
  testId,
  label,
  value,
  options,
  onChange,
}: {
  testId: string;
  label: string;
  value: T;
  options: ReadonlyArray<readonly [T, string]>;
  onChange: (value: T) => void;
}) {
  return (
    <select
      className="input run-filter"
      data-testid={testId}
      aria-label={label}
      value={value}
      onChange={(e) => onChange(e.target.value as T)}
    >
      {options.map(([choice, text]) => (
        <option key={choice} value={choice}>
          {text}
        </option>
      ))}
    </select>
  );
}

/**
 * Above the run list: search, one menu per facet (the values present, with counts), dates, flagged, grouping, and
 * the cards/table switch. It edits the query in the store; the list derives its rows from it.
 */
export function RunListToolbar({
  runs,
  query,
  shown,
  layout,
  table,
  onQuery,
  onLayout,
}: {
  runs: readonly RunSummary[];
  query: RunQuery;
  /** How many runs pass the filters. */
  shown: number;
  layout: RunsLayout;
  /** Whether the table is what is shown (`auto` decides by the number of runs). */
  table: boolean;
  onQuery: (patch: Partial<RunQuery>) => void;
  onLayout: (layout: RunsLayout) => void;
}) {
  // Menus list the values over all runs (not the filtered ones), so picking one never hides the others.
  const options = useMemo(
    () => new Map(RUN_FACETS.map((facet) => [facet, facetOptions(runs, facet)] as const)),
    [runs],
  );
  const setFacet = (facet: RunFacet, value: string) => onQuery({ facets: { ...query.facets, [facet]: value } });
  return (
    <div className="run-toolbar" data-testid="run-toolbar">
      <div className="run-toolbar-line">
        <input
          type="search"
          className="input run-search"
          data-testid="run-search"
          aria-label="Search runs"
          placeholder="Search runs"
          title="Every word must appear in the run's id, label, task, agent, model or host"
          value={query.search}
          onChange={(e) => onQuery({ search: e.target.value })}
        />
        <span className="muted run-count" data-testid="run-count">
          {shown === runs.length ? `${runs.length} runs` : `${shown} of ${runs.length} runs`}
        </span>
        <div className="segmented" role="group" aria-label="Show runs as">
          {(['cards', 'table'] as const).map((mode) => (
            <button
              key={mode}
              type="button"
              className="button button-small"
              data-testid={`runs-layout-${mode}`}
              aria-pressed={table === (mode === 'table')}
              title={layout === 'auto' ? 'Chosen by the number of runs until you pick one' : undefined}
              onClick={() => onLayout(mode)}
            >
              {mode === 'cards' ? 'Cards' : 'Table'}
            </button>
          ))}
        </div>
      </div>
      {/* Open in the table; a summary line beside the cards, where the column is narrow. */}
      <details className="run-filters-box" data-testid="run-filters" open={table || queryFilters(query)}>
        <summary>Filters and grouping</summary>
        <div className="run-toolbar-line run-filters">
          {RUN_FACETS.map((facet) => {
            const values = options.get(facet) ?? [];
            // A facet no run has a value for (no experiments yet) would only offer "—".
            if (values.length === 0 || (values.length === 1 && values[0]!.value === '' && !query.facets[facet])) {
              return null;
            }
            return (
              <select
                key={facet}
                className="input run-filter"
                data-testid={`run-filter-${facet}`}
                aria-label={RUN_FACET_LABELS[facet]}
                value={query.facets[facet] ?? ''}
                onChange={(e) => setFacet(facet, e.target.value)}
              >
                <option value="">{`${RUN_FACET_LABELS[facet]}: any`}</option>
                {values.map((option) => (
                  <option key={option.value} value={option.value === '' ? NO_VALUE : option.value}>
                    {`${facetText(facet, option.value)} (${option.count})`}
                  </option>
                ))}
              </select>
            );
          })}
          <Choice
            testId="run-filter-flagged"
            label="Integrity"
            value={query.flagged}
            options={FLAGGED_CHOICES}
            onChange={(flagged) => onQuery({ flagged })}
          />
          {(['from', 'to'] as const).map((bound) => (
            <label key={bound} className="run-date">
              {bound === 'from' ? 'From' : 'to'}
              <input
                type="date"
                className="input"
                data-testid={`run-filter-${bound}`}
                value={query[bound]}
                onChange={(e) => onQuery({ [bound]: e.target.value })}
              />
            </label>
          ))}
          <Choice
            testId="run-group"
            label="Group runs"
            value={query.groupBy}
            options={GROUP_CHOICES}
            onChange={(groupBy) => onQuery({ groupBy })}
          />
          {queryFilters(query) ? (
            <button
              type="button"
              className="button button-small"
              data-testid="run-filters-clear"
              onClick={() => onQuery({ search: '', facets: {}, from: '', to: '', flagged: DEFAULT_RUN_QUERY.flagged })}
            >
              Clear filters
            </button>
          ) : null}
        </div>
      </details>
    </div>
  );
}
