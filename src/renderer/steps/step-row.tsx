import type { AgentStep } from '../../shared/contract-trajectory';
import { useQuery } from '../store/use-query';
import { stepDetailBlocks, stepStatusText } from './step-detail-model';
import { KIND_LABELS, offsetLabel } from './step-view-model';

/** One step in the list: its kind, line, time and title; expanded, its detail (read whole if the page cut it). */
export function StepRow({
  runId,
  step,
  origin,
  open,
  current,
  onToggle,
}: {
  runId: string;
  step: AgentStep;
  origin: number | null;
  open: boolean;
  current: boolean;
  onToggle: () => void;
}) {
  const when = step.t !== null && origin !== null ? offsetLabel(step.t - origin) : '';
  const status = stepStatusText(step);
  return (
    <div
      className={`steps-row steps-row-${step.kind}${current ? ' steps-row-current' : ''}${step.isError ? ' steps-row-error' : ''}`}
      data-testid={`steps-row-${step.index}`}
      data-kind={step.kind}
      data-current={current ? 'true' : 'false'}
    >
      <button type="button" className="steps-row-head" aria-expanded={open} onClick={onToggle}>
        <span className={`steps-kind steps-kind-${step.kind}`}>{KIND_LABELS[step.kind].replace(/s$/, '')}</span>
        <span className="steps-line cell-mono muted" title={`line ${step.line} of the stream`}>
          L{step.line}
        </span>
        <span className="steps-when cell-mono muted">{when}</span>
        <span className="steps-title">{step.title}</span>
        {status ? (
          <span className={`steps-status${step.isError || step.status === 'in_progress' ? ' steps-status-warn' : ''}`}>
            {status}
          </span>
        ) : null}
      </button>
      {open ? step.truncated ? <WholeStep runId={runId} step={step} /> : <StepDetail step={step} /> : null}
    </div>
  );
}

/** A step the list page cut: shown as it is at once, then whole once `trajectory.step` answers. */
function WholeStep({ runId, step }: { runId: string; step: AgentStep }) {
  const read = useQuery('trajectory.step', { id: runId, index: step.index });
  const whole = read.data ?? null;
  const failed = read.error?.message ?? null;
  return (
    <>
      {whole ? null : (
        <p className="muted steps-loading" data-testid={`steps-loading-${step.index}`}>
          {failed ? `Could not read the whole step: ${failed}` : 'Reading the whole step…'}
        </p>
      )}
      <StepDetail step={whole ?? step} />
    </>
  );
}

function StepDetail({ step }: { step: AgentStep }) {
  const blocks = stepDetailBlocks(step);
  return (
    <div className="steps-detail" data-testid={`steps-detail-${step.index}`}>
      {step.problem ? (
        <p className="steps-problem">
          Line {step.line}: {step.problem}
        </p>
      ) : null}
      {step.endLine ? (
        <p className="muted">
          Lines {step.line}–{step.endLine} of the stream{step.toolId ? ` · id ${step.toolId}` : ''}
        </p>
      ) : null}
      {blocks.map((b) => (
        <section key={b.label} className="steps-block">
          <h4 className="steps-block-label">{b.label}</h4>
          <pre className="steps-pre">{b.text}</pre>
        </section>
      ))}
    </div>
  );
}
