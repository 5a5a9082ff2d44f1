import { useState } from 'react';
import type { IntegrityState } from '../../shared/contract-integrity';
import type { AppErrorData } from '../../shared/errors';
import type { RunTabProps } from '../common/run-tabs';
import { useAppStore } from '../store/store-context';
import { useQuery } from '../store/use-query';
import { IntegrityEvidenceList } from './integrity-evidence-list';
import { IntegrityJudgePanel } from './integrity-judge-panel';
import { IntegrityModelsPanel } from './integrity-models-panel';
import { CHECK_LABELS, flagViews, KIND_LABELS, seenText, verdictText, type FlagView } from './integrity-view-model';

/**
 * The Integrity tab (issue 13): the last pass's verdict, each check with its status and reason, each flag with its
 * evidence, and a person's decision on it with a note (kept in the local record). Everything in a flag came from the
 * agent's files: rendered as React text only. An imported run is checked on this machine against the references
 * the user names here.
 */
export function IntegrityTabView({ run }: RunTabProps) {
  const integrity = useQuery(
    'integrity.get',
    { id: run.id },
    { refetchOn: [{ event: 'integrity.changed', when: (p) => p.runId === run.id }] },
  );
  const runCommand = useAppStore((s) => s.queries.run);
  const put = useAppStore((s) => s.queries.put);
  const [checkError, setCheckError] = useState<AppErrorData | null>(null);
  const [checking, setChecking] = useState(false);
  const [refs, setRefs] = useState({ references: '', testSets: '', ptbCheckout: '' });
  const state = integrity.data ?? null;
  const error = checkError ?? integrity.error;
  const setState = (next: IntegrityState) => put('integrity.get', { id: run.id }, next);

  const check = async (): Promise<void> => {
    setChecking(true);
    setCheckError(null);
    const result = await runCommand('integrity.check', {
      id: run.id,
      ...(refs.references.trim() ? { references: refs.references.trim() } : {}),
      ...(refs.testSets.trim() ? { testSets: refs.testSets.trim() } : {}),
      ...(refs.ptbCheckout.trim() ? { ptbCheckout: refs.ptbCheckout.trim() } : {}),
    });
    setChecking(false);
    if (!result.ok) return setCheckError(result.error);
    setState(result.data);
  };

  const record = state?.record ?? null;
  const verdict = record?.verdict.verdict ?? null;
  return (
    <div className="integrity-tab" data-testid="integrity-tab">
      <section className="run-section" aria-labelledby="integrity-verdict-heading">
        <h3 id="integrity-verdict-heading" className="subsection-title">
          Verdict
        </h3>
        <p>
          <span
            className={`badge integrity-verdict integrity-verdict-${verdict ?? 'none'}`}
            data-testid="integrity-verdict"
          >
            {state ? verdictText(state) : 'Loading…'}
          </span>{' '}
          {record ? (
            <span className="muted">
              {new Date(record.checkedAt).toLocaleString()} · {record.where === 'host' ? 'on the host' : 'here'} ·{' '}
              {record.seconds.toFixed(1)} s · {record.source}
            </span>
          ) : null}
        </p>
        {run.imported ? (
          <div className="integrity-refs">
            <p className="muted">
              An imported run has no host: it is checked on this machine. Name where the references are (folders on this
              machine).
            </p>
            {(
              [
                ['references', 'Hugging Face cache (base and instruct models)'],
                ['testSets', 'Test sets folder (<benchmark>.jsonl)'],
                ['ptbCheckout', 'PostTrainBench checkout'],
              ] as const
            ).map(([field, label]) => (
              <label key={field} className="integrity-ref">
                <span>{label}</span>
                <input
                  type="text"
                  value={refs[field]}
                  onChange={(e) => setRefs((r) => ({ ...r, [field]: e.target.value }))}
                  data-testid={`integrity-ref-${field}`}
                />
              </label>
            ))}
          </div>
        ) : null}
        <button
          type="button"
          className="button"
          disabled={checking}
          onClick={() => void check()}
          data-testid="integrity-check"
        >
          {checking ? 'Checking…' : record ? 'Check again' : 'Run the checks'}
        </button>
        {error ? (
          <p className="inline-error" role="alert" data-testid="integrity-error">
            {error.message}
          </p>
        ) : null}
      </section>

      {record ? (
        <section className="run-section" aria-labelledby="integrity-checks-heading">
          <h3 id="integrity-checks-heading" className="subsection-title">
            Checks
          </h3>
          <table className="integrity-checks" data-testid="integrity-checks">
            <tbody>
              {record.verdict.checks.map((c) => (
                <tr key={c.kind} data-status={c.status}>
                  <th scope="row">{CHECK_LABELS[c.kind]}</th>
                  <td>
                    <span className={`badge badge-small integrity-status-${c.status}`}>{c.status}</span>
                  </td>
                  <td>{c.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}

      {state && record ? (
        <section className="run-section" aria-labelledby="integrity-flags-heading">
          <h3 id="integrity-flags-heading" className="subsection-title">
            Flags
          </h3>
          {record.verdict.flags.length === 0 ? <p className="muted">No flags.</p> : null}
          {flagViews(state).map((view) => (
            <FlagCard
              key={view.key}
              run={{ id: run.id, imported: !!run.imported }}
              view={view}
              seen={record.firstSeen[view.key] ?? null}
              onDecided={setState}
            />
          ))}
        </section>
      ) : null}

      {record && record.skippedCount > 0 ? (
        <section className="run-section" aria-labelledby="integrity-skipped-heading">
          <h3 id="integrity-skipped-heading" className="subsection-title">
            Not read ({record.skippedCount})
          </h3>
          <ul className="integrity-skipped" data-testid="integrity-skipped">
            {record.skipped.map((s) => (
              <li key={s.file}>
                <span className="cell-mono">{s.file}</span>: {s.reason}
              </li>
            ))}
          </ul>
        </section>
      ) : null}

      <section className="run-section" aria-label="Model pairs">
        <IntegrityModelsPanel />
      </section>

      <IntegrityJudgePanel runId={run.id} verdict={record?.verdict ?? null} />
    </div>
  );
}

function FlagCard({
  run,
  view,
  seen,
  onDecided,
}: {
  run: { id: string; imported: boolean };
  view: FlagView;
  seen: { at: number; evidenceAt: number | null } | null;
  onDecided: (state: IntegrityState) => void;
}) {
  const runCommand = useAppStore((s) => s.queries.run);
  const [note, setNote] = useState(view.decision?.note ?? '');
  const [problem, setProblem] = useState<string | null>(null);
  const { flag } = view;
  const decide = async (decision: 'confirmed' | 'dismissed' | null): Promise<void> => {
    const result = await runCommand('integrity.decide', { id: run.id, flag: view.key, decision, note });
    if (!result.ok) return setProblem(result.error.message);
    setProblem(null);
    onDecided(result.data);
  };
  return (
    <article className={`integrity-flag integrity-flag-${flag.severity}`} data-testid="integrity-flag">
      <header>
        <span className="badge badge-small">{flag.severity}</span> <strong>{KIND_LABELS[flag.kind]}</strong>:{' '}
        {flag.summary}
        {seen ? (
          <div className="muted" data-testid="integrity-flag-seen">
            {seenText(seen)}
          </div>
        ) : null}
      </header>
      <details>
        <summary>Evidence ({flag.evidence.length})</summary>
        <IntegrityEvidenceList flag={flag} run={run} />
      </details>
      {flag.severity !== 'info' ? (
        <div className="integrity-decision">
          <span data-testid="integrity-decision">
            {view.decision ? `Decision: ${view.decision.decision}` : 'No decision yet'}
          </span>
          <input
            type="text"
            placeholder="Note (why)"
            value={note}
            onChange={(e) => setNote(e.target.value)}
            aria-label="Note on this flag"
          />
          <button type="button" className="button" onClick={() => void decide('confirmed')}>
            Confirm
          </button>
          <button type="button" className="button" onClick={() => void decide('dismissed')}>
            Dismiss
          </button>
          {view.decision ? (
            <button type="button" className="button button-quiet" onClick={() => void decide(null)}>
              Clear
            </button>
          ) : null}
          {problem ? (
            <span className="inline-error" role="alert">
              {problem}
            </span>
          ) : null}
        </div>
      ) : null}
    </article>
  );
}
