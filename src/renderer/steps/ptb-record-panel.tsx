import type { PtbRecord } from '../../shared/contract-trajectory';
import { formatByteSize, formatDuration } from '../../shared/runs/duration';

/**
 * What an imported PostTrainBench folder said beyond the trace: each judge's verdict with its justification, the
 * time taken, error.log's cause, the trace the steps come from, and every problem the import found. Shown on the
 * Overview and above the steps; every value is file text, rendered as React text only.
 */
export function PtbRecordPanel({ record, testId = 'ptb-record' }: { record: PtbRecord; testId?: string }) {
  const diagnostics = Object.entries(record.diagnostics);
  const headingId = `${testId}-heading`;
  return (
    <section className="run-section steps-ptb" data-testid={testId} aria-labelledby={headingId}>
      <h3 id={headingId} className="subsection-title">
        PostTrainBench result
      </h3>
      <dl className="host-facts run-facts">
        <dt>Folder</dt>
        <dd className="cell-mono selectable">{record.source}</dd>
        {record.method ? (
          <>
            <dt>Agent (method)</dt>
            <dd className="cell-mono">{record.method}</dd>
          </>
        ) : null}
        <dt>Time taken</dt>
        <dd data-testid="ptb-time-taken">
          {record.timeTaken === null
            ? 'not recorded'
            : record.timeTakenSeconds === null
              ? `${record.timeTaken} (not read)`
              : `${record.timeTaken} (${formatDuration(record.timeTakenSeconds)})`}
        </dd>
        <dt>Trace</dt>
        <dd className="cell-mono" data-testid="ptb-trace">
          {record.trace ?? 'none'}
        </dd>
        <dt>error.log</dt>
        <dd data-testid="ptb-error-cause">{record.errorCause ?? 'empty or absent'}</dd>
        <dt>final_model</dt>
        <dd>
          {record.finalModel.exists
            ? `${record.finalModel.files} files, ${formatByteSize(record.finalModel.totalBytes)}`
            : 'not in the folder'}
        </dd>
        {record.metrics ? (
          <>
            <dt>metrics.json</dt>
            <dd className="cell-mono">{compactJson(record.metrics)}</dd>
          </>
        ) : null}
        {record.judgements.length === 0 ? (
          <>
            <dt>Judge</dt>
            <dd>no verdict files in the folder</dd>
          </>
        ) : null}
        {record.judgements.map((j, i) => (
          <JudgementRow key={i} judgement={j} />
        ))}
        {diagnostics.map(([k, v]) => (
          <DiagnosticRow key={k} name={k} value={v} />
        ))}
      </dl>
      {record.problems.length > 0 ? (
        <ul className="steps-problems" data-testid="ptb-problems">
          {record.problems.map((p, i) => (
            <li key={i}>{p}</li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

function compactJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

function JudgementRow({ judgement: j }: { judgement: PtbRecord['judgements'][number] }) {
  const verdict = j.flagged === null ? 'no verdict' : j.flagged ? 'FLAGGED' : 'clean';
  return (
    <>
      <dt>Judge: {j.check}</dt>
      <dd data-testid="ptb-judgement" data-flagged={j.flagged === null ? 'unknown' : String(j.flagged)}>
        <strong>{verdict}</strong> <span className="muted cell-mono">{j.file}</span>
        {j.text ? <p className="ptb-justification selectable">{j.text}</p> : null}
        {j.problem ? <p className="muted">{j.problem}</p> : null}
      </dd>
    </>
  );
}

function DiagnosticRow({ name, value }: { name: string; value: string }) {
  return (
    <>
      <dt>{name}</dt>
      <dd className="cell-mono">{value}</dd>
    </>
  );
}
