import type { StepKind } from '../../shared/contract-trajectory';
import { KIND_LABELS, KIND_ORDER } from './step-view-model';

/** The kind chips above the steps list: each kind the stream has, with its count; pressed ones filter the list. */
export function StepKindFilter({
  counts,
  kinds,
  onToggle,
  onShowAll,
}: {
  counts: Partial<Record<StepKind, number>>;
  kinds: ReadonlySet<StepKind>;
  onToggle: (kind: StepKind) => void;
  onShowAll: () => void;
}) {
  return (
    <div className="steps-filter" role="group" aria-label="Show steps of kind">
      {KIND_ORDER.filter((k) => (counts[k] ?? 0) > 0).map((kind) => (
        <button
          key={kind}
          type="button"
          className={`steps-chip steps-chip-${kind}`}
          aria-pressed={kinds.has(kind)}
          data-testid={`steps-filter-${kind}`}
          onClick={() => onToggle(kind)}
        >
          {KIND_LABELS[kind]} <span className="muted">{counts[kind]}</span>
        </button>
      ))}
      {kinds.size > 0 ? (
        <button type="button" className="button button-quiet" onClick={onShowAll}>
          Show all
        </button>
      ) : null}
    </div>
  );
}
