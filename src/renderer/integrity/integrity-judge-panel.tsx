import { useState } from 'react';
import type { IntegrityJudge, IntegrityVerdict } from '../../shared/contract-integrity';
import { judgeBeside, PTB_JUDGE_MODEL } from '../../shared/integrity/ptb-judge';
import { useAppStore } from '../store/store-context';
import { useQuery } from '../store/use-query';
import { CHECK_LABELS } from './integrity-view-model';

/**
 * Optional: PostTrainBench's own LLM judge beside our checks. An imported PostTrainBench folder brings its judge
 * files; for a finished PostTrainBench run on a host, the user may run the judge there (it sends the workspace to
 * OpenAI with their CODEX_API_KEY). Each verdict sits beside the check of ours that answers it, a disagreement
 * marked. The judge's text is the agent's and the judge's words: React text only.
 */
export function IntegrityJudgePanel({ runId, verdict }: { runId: string; verdict: IntegrityVerdict | null }) {
  const judge = useQuery('integrity.judge', { id: runId });
  const runCommand = useAppStore((s) => s.queries.run);
  const put = useAppStore((s) => s.queries.put);
  const [running, setRunning] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const data = judge.data ?? null;
  if (!data || (data.entries.length === 0 && !data.runnable && !data.ran)) return null;

  const run = async (): Promise<void> => {
    setRunning(true);
    setProblem(null);
    const result = await runCommand('integrity.runJudge', { id: runId });
    setRunning(false);
    if (!result.ok) return setProblem(result.error.message);
    put('integrity.judge', { id: runId }, result.data satisfies IntegrityJudge);
  };

  const rows = judgeBeside(verdict, data.entries);
  return (
    <section className="run-section" aria-labelledby="integrity-judge-heading" data-testid="integrity-judge">
      <h3 id="integrity-judge-heading" className="subsection-title">
        PostTrainBench’s LLM judge <span className="badge badge-small">optional</span>
      </h3>
      <p className="muted">
        PostTrainBench’s own judge (an LLM reading the workspace) has known false positives (GSM8K’s train split) and
        false negatives; it is shown beside these checks, not instead of them.
      </p>
      {rows.some((r) => r.disagrees) ? (
        <p className="badge badge-warn" data-testid="integrity-judge-disagrees">
          The judge and these checks disagree.
        </p>
      ) : null}
      {rows.length > 0 ? (
        <table className="integrity-judge-table">
          <thead>
            <tr>
              <th scope="col">Judge’s check</th>
              <th scope="col">Judge</th>
              <th scope="col">Ours</th>
              <th scope="col">From</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr
                key={i}
                data-testid="integrity-judge-row"
                data-disagrees={r.disagrees ? 'true' : 'false'}
                className={r.disagrees ? 'integrity-judge-disagrees' : undefined}
              >
                <th scope="row">{r.entry.check}</th>
                <td>{r.entry.flagged === null ? 'no verdict' : r.entry.flagged ? 'flagged' : 'clean'}</td>
                <td>{r.ours ? `${CHECK_LABELS[r.ours.kind]}: ${r.ours.says}` : '—'}</td>
                <td>
                  <span className="cell-mono">{r.entry.file}</span>{' '}
                  {r.entry.source === 'ran' ? '(run here)' : '(imported)'}
                  {r.entry.problem ? <div className="inline-error">{r.entry.problem}</div> : null}
                  {r.entry.text ? <pre className="integrity-pre">{r.entry.text}</pre> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">No judge verdict yet.</p>
      )}
      {data.ran ? (
        <p className="muted" data-testid="integrity-judge-ran">
          Ran {new Date(data.ran.at).toLocaleString()} with {data.ran.model}
          {data.ran.exitCode === 0 ? '' : ` (exit ${data.ran.exitCode ?? 'signal'})`}
          {data.ran.note ? <pre className="integrity-pre">{data.ran.note}</pre> : null}
        </p>
      ) : null}
      {data.runnable ? (
        <div className="integrity-decision">
          <button
            type="button"
            className="button"
            disabled={running}
            onClick={() => void run()}
            data-testid="integrity-judge-run"
          >
            {running ? 'The judge is reading the workspace…' : 'Run PostTrainBench’s judge on the host'}
          </button>
          <span className="muted">
            Runs Codex ({PTB_JUDGE_MODEL}) in the workspace with your CODEX_API_KEY: the workspace is sent to OpenAI.
          </span>
        </div>
      ) : null}
      {problem ? (
        <p className="inline-error" role="alert" data-testid="integrity-judge-error">
          {problem}
        </p>
      ) : null}
    </section>
  );
}
