import type { DatasetRow, OverlapHit } from '../../shared/contract-datasets';
import { chatMessages, splitMarked } from '../../shared/datasets/dataset-rows';
import { prettyValue } from './dataset-view-model';

function rowTitle(row: DatasetRow): string {
  // A row reached by byte offset before the index counted that far has no number yet.
  return row.row === null ? `Row at byte ${(row.byte ?? 0).toLocaleString()}` : `Row ${row.row}`;
}

/** One row in full: a conversation as role + content bubbles, anything else as pretty JSON. Text only. */
export function DatasetRowDetail({ row, onClose }: { row: DatasetRow; onClose: () => void }) {
  const chat = row.value === undefined ? null : chatMessages(row.value);
  return (
    <section className="datasets-detail" aria-label={rowTitle(row)} data-testid="datasets-detail">
      <div className="datasets-detail-head">
        <strong>
          {rowTitle(row)}
          {row.line === null ? '' : ` · line ${row.line}`}
        </strong>
        <button type="button" className="datasets-small-button" onClick={onClose}>
          Close
        </button>
      </div>
      {row.error ? (
        <p className="inline-error" data-testid="datasets-detail-error">
          {row.error}
        </p>
      ) : null}
      {chat ? (
        <ol className="stack-list datasets-chat" data-testid="datasets-chat">
          {chat.map((m, i) => (
            <li
              key={i}
              className={`datasets-bubble datasets-bubble-${m.role === 'user' || m.role === 'human' ? 'user' : m.role === 'system' ? 'system' : 'assistant'}`}
            >
              <span className="datasets-role">{m.role}</span>
              <pre className="datasets-text">{m.content}</pre>
            </li>
          ))}
        </ol>
      ) : (
        <pre className="datasets-text">{row.value === undefined ? (row.raw ?? '') : prettyValue(row.value)}</pre>
      )}
    </section>
  );
}

/** A row that shares n-grams with the test set: each matched field with the matched text marked. */
export function OverlapHitView({ hit }: { hit: OverlapHit }) {
  return (
    <article className="datasets-hit" data-testid={`datasets-hit-${hit.row}`}>
      <header>
        <strong>
          Row {hit.row}
          {hit.line === null ? '' : ` · line ${hit.line}`}
        </strong>{' '}
        <span className="muted">
          {hit.matchedNgrams} of {hit.totalNgrams} n-grams match test item{hit.testItems.length === 1 ? '' : 's'}{' '}
          {hit.testItems.map((t) => t.index).join(', ')}
        </span>
      </header>
      {Object.entries(hit.fields).map(([field, text]) => (
        <div key={field} className="datasets-hit-field">
          <span className="datasets-role">{field}</span>
          <pre className="datasets-text">
            {splitMarked(
              text,
              hit.spans.filter((s) => s.field === field),
            ).map((piece, i) => (piece.mark ? <mark key={i}>{piece.text}</mark> : <span key={i}>{piece.text}</span>))}
          </pre>
        </div>
      ))}
      {hit.testItems[0] ? (
        <details>
          <summary>Test item {hit.testItems[0].index}</summary>
          <pre className="datasets-text">{hit.testItems[0].preview}</pre>
        </details>
      ) : null}
    </article>
  );
}
