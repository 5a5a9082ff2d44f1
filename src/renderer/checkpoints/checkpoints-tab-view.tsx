import { useEffect, useState } from 'react';
import type { CheckpointDiff, CheckpointInfo, CheckpointList, DiffFlag } from '../../shared/contract-checkpoints';
import { diffEngineText } from '../../shared/checkpoints/checkpoint-diff';
import type { AppErrorData } from '../../shared/errors';
import { formatByteSize } from '../../shared/runs/duration';
import type { RunTabProps } from '../common/run-tabs';
import { useAppStore } from '../store/store-context';
import { useEvent, useQuery } from '../store/use-query';
import { isDarkTheme, TextDiffEditor } from '../common/text-diff-editor';
import { LayerHeatmap } from './layer-heatmap';
import { TensorTable } from './tensor-table';
import { formatParams } from './tensor-table-model';
import { TableHead } from '../shell/table-head';

interface Progress {
  tensorsDone: number;
  tensorsTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

const flagTone: Record<DiffFlag['kind'], string> = {
  'nothing-changed': 'warn',
  'identical-to-reference': 'warn',
  lora: 'info',
  'full-fine-tune': 'info',
  'partial-fine-tune': 'info',
  'embedding-resized': 'info',
  'non-finite': 'bad',
};

const flagLabel: Record<DiffFlag['kind'], string> = {
  'nothing-changed': 'Nothing changed',
  'identical-to-reference': 'Identical to the base model',
  lora: 'LoRA',
  'full-fine-tune': 'Full fine-tune',
  'partial-fine-tune': 'Partial fine-tune',
  'embedding-resized': 'Embedding resized',
  'non-finite': 'NaN / Inf',
};

function dtypeText(c: CheckpointInfo): string {
  return Object.keys(c.dtypes).join(', ') || '—';
}

/**
 * The pair to diff: the user's pick where the list still has it, else the final model against the base (or another
 * checkpoint).
 */
export function diffPair(list: CheckpointList | null, picked: { a: string; b: string }): { a: string; b: string } {
  if (!list) return picked;
  const ids = list.checkpoints.map((c) => c.id);
  const final = ids.find((id) => id === 'workspace/final_model') ?? ids[0] ?? '';
  // `hf:ORG/NAME`: a model in the host's HF cache (the reference an integrity flag matched), resolved there.
  const known = (id: string): boolean =>
    ids.includes(id) || (id === 'base' && list.base !== null) || id.startsWith('hf:');
  return {
    a: picked.a && known(picked.a) ? picked.a : list.base ? 'base' : (ids.find((id) => id !== final) ?? ''),
    b: picked.b && known(picked.b) ? picked.b : final,
  };
}

/** The checkpoints tab: what is in the run folder on the host, and a diff of any two (computed there). */
export function CheckpointsTabView({ run }: RunTabProps) {
  const listQuery = useQuery('checkpoints.list', { id: run.id });
  const runCommand = useAppStore((s) => s.queries.run);
  const list = listQuery.data ?? null;
  const listError = listQuery.error;
  const loading = listQuery.loading;
  const [picked, setPicked] = useState({ a: '', b: '' });
  const { a, b } = diffPair(list, picked);
  // The two radio columns of the list: A (from) and B (to).
  const pickers = [
    { side: 'A', picked: a, pick: (id: string) => setPicked({ a: id, b }) },
    { side: 'B', picked: b, pick: (id: string) => setPicked({ a, b: id }) },
  ];
  const [diff, setDiff] = useState<CheckpointDiff | null>(null);
  const [diffError, setDiffError] = useState<AppErrorData | null>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [diffing, setDiffing] = useState(false);
  const [config, setConfig] = useState<string | null>(null);

  const load = (): void => void listQuery.reload();

  useEvent('checkpoints.diffProgress', (p) => {
    if (p.runId === run.id) setProgress(p);
  });

  const diffOf = async (a: string, b: string): Promise<void> => {
    setDiffing(true);
    setDiffError(null);
    setProgress(null);
    const result = await runCommand('checkpoints.diff', { id: run.id, a, b });
    setDiffing(false);
    if (!result.ok) return setDiffError(result.error);
    setDiff(result.data);
    const changed = result.data.configs.find((c) => c.a !== c.b);
    setConfig(changed?.name ?? result.data.configs[0]?.name ?? null);
  };

  const startDiff = (): Promise<void> => diffOf(a, b);

  // Evidence opened from the Integrity tab: the final model against the reference it matched, diffed at once.
  const evidence = useAppStore((s) =>
    s.nav.evidence?.tab === 'checkpoints' && s.nav.evidence.runId === run.id ? s.nav.evidence : null,
  );
  const evidenceShown = useAppStore((s) => s.nav.evidenceShown);
  const [evidenceSeq, setEvidenceSeq] = useState(0);
  if (evidence?.tab === 'checkpoints' && evidence.seq !== evidenceSeq) {
    setEvidenceSeq(evidence.seq);
    setPicked({ a: evidence.a, b: evidence.b });
  }
  useEffect(() => {
    if (evidence?.tab !== 'checkpoints') return;
    evidenceShown(evidence.seq);
    // Starting the diff on the host is this effect's work; its state marks the diff as running.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    void diffOf(evidence.a, evidence.b);
    // diffOf is recreated each render; the request (its seq) is what must run once.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [evidence, evidenceShown]);

  const options = [...(list?.checkpoints ?? []), ...(list?.base ? [list.base] : [])];
  const shownConfig = diff?.configs.find((c) => c.name === config) ?? null;

  return (
    <div className="ckpt-tab" data-testid="ckpt-tab">
      <section className="run-section" aria-labelledby="ckpt-list-heading">
        <div className="ckpt-heading-row">
          <h3 id="ckpt-list-heading" className="subsection-title">
            Checkpoints on the host
          </h3>
          <button type="button" className="button button-quiet" disabled={loading} onClick={load}>
            {loading ? 'Looking…' : 'Look again'}
          </button>
        </div>
        {listError ? (
          <p className="inline-error" role="alert" data-testid="ckpt-list-error">
            {listError.message}
          </p>
        ) : null}
        {list && options.length === 0 ? (
          <p className="muted">No checkpoints under {list.hostRunDir}/workspace yet.</p>
        ) : null}
        {options.length > 0 ? (
          <table className="ckpt-list" data-testid="ckpt-list">
            <TableHead columns={['A', 'B', 'Checkpoint', 'Kind', 'Size', 'Parameters', 'dtype', 'Modified']} />
            <tbody>
              {options.map((c) => (
                <tr key={c.id} data-testid="ckpt-list-row" className={c.problems.length ? 'ckpt-list-bad' : ''}>
                  {pickers.map(({ side, picked, pick }) => (
                    <td key={side}>
                      <input
                        type="radio"
                        name={`ckpt-${side.toLowerCase()}`}
                        aria-label={`${side}: ${c.id}`}
                        checked={picked === c.id}
                        disabled={c.problems.length > 0}
                        onChange={() => pick(c.id)}
                      />
                    </td>
                  ))}
                  <td className="cell-mono">
                    {c.origin === 'hf-cache' ? `base: ${c.label ?? ''}` : c.id}
                    {c.problems.map((p) => (
                      <span key={p} className="ckpt-problem">
                        {p}
                      </span>
                    ))}
                  </td>
                  <td>{c.kind === 'lora' ? `LoRA r=${c.adapter?.rank ?? '?'}` : 'full'}</td>
                  <td>{formatByteSize(c.sizeBytes)}</td>
                  <td>{formatParams(c.parameterCount)}</td>
                  <td className="cell-mono">{dtypeText(c)}</td>
                  <td>{c.mtime ? new Date(c.mtime).toLocaleString() : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        {list?.problems.map((p) => (
          <p key={p} className="muted">
            {p}
          </p>
        ))}
        {a.startsWith('hf:') ? (
          <p className="muted" data-testid="ckpt-reference">
            A: {a.slice(3)} from the host’s Hugging Face cache
          </p>
        ) : null}
        <div className="ckpt-actions">
          <button
            type="button"
            className="button button-primary"
            data-testid="ckpt-diff-start"
            disabled={diffing || !a || !b || a === b}
            onClick={() => void startDiff()}
          >
            {diffing ? 'Diffing on the host…' : 'Diff A → B'}
          </button>
          {diffing && progress ? (
            <span className="ckpt-progress" data-testid="ckpt-progress">
              <progress value={progress.bytesDone} max={Math.max(1, progress.bytesTotal)} />
              {progress.tensorsDone}/{progress.tensorsTotal} tensors · {formatByteSize(progress.bytesDone)} of{' '}
              {formatByteSize(progress.bytesTotal)}
            </span>
          ) : null}
        </div>
        {diffError ? (
          <p className="inline-error" role="alert" data-testid="ckpt-diff-error">
            {diffError.message}
          </p>
        ) : null}
      </section>

      {diff ? (
        <>
          <section className="run-section" aria-labelledby="ckpt-summary-heading">
            <h3 id="ckpt-summary-heading" className="subsection-title">
              {diff.a.id} → {diff.b.id}
            </h3>
            <div className="ckpt-flags" data-testid="ckpt-flags">
              {diff.flags.map((f) => (
                <span
                  key={f.kind}
                  className={`ckpt-flag ckpt-flag-${flagTone[f.kind]}`}
                  data-testid={`ckpt-flag-${f.kind}`}
                  title={f.detail}
                >
                  {flagLabel[f.kind]}
                </span>
              ))}
            </div>
            <ul className="ckpt-flag-details">
              {diff.flags.map((f) => (
                <li key={f.kind}>{f.detail}</li>
              ))}
            </ul>
            <p className="muted" data-testid="ckpt-totals">
              {diff.totals.tensors} tensors: {diff.totals.changed} changed, {diff.totals.same} identical,{' '}
              {diff.totals.added} added, {diff.totals.removed} removed, {diff.totals.reshaped} reshaped. Computed on the
              host in {diff.stats.seconds.toFixed(1)} s ({formatByteSize(diff.stats.bytesRead)} read there,{' '}
              {formatByteSize(diff.stats.bytesTransferred)} over SSH).
            </p>
            <DiffEngineLine stats={diff.stats} />
          </section>

          <section className="run-section" aria-labelledby="ckpt-heatmap-heading">
            <h3 id="ckpt-heatmap-heading" className="subsection-title">
              Relative change per layer
            </h3>
            <LayerHeatmap rows={diff.tensors} />
          </section>

          <section className="run-section" aria-labelledby="ckpt-tensors-heading">
            <h3 id="ckpt-tensors-heading" className="subsection-title">
              Tensors
            </h3>
            <TensorTable rows={diff.tensors} />
          </section>

          {diff.configs.length > 0 ? (
            <section className="run-section" aria-labelledby="ckpt-configs-heading">
              <h3 id="ckpt-configs-heading" className="subsection-title">
                Config files
              </h3>
              <div className="tab-bar" role="tablist" aria-label="Config files">
                {diff.configs.map((c) => (
                  <button
                    key={c.name}
                    type="button"
                    role="tab"
                    aria-selected={c.name === config}
                    className={`tab${c.name === config ? ' tab-selected' : ''}`}
                    data-testid={`ckpt-config-${c.name}`}
                    onClick={() => setConfig(c.name)}
                  >
                    {c.name}
                    {c.a === c.b ? '' : ' •'}
                  </button>
                ))}
              </div>
              {shownConfig ? (
                <TextDiffEditor
                  key={`${diff.a.id}|${diff.b.id}|${shownConfig.name}`}
                  name={shownConfig.name}
                  original={shownConfig.a ?? ''}
                  modified={shownConfig.b ?? ''}
                  dark={isDarkTheme()}
                  testId="ckpt-config-editor"
                  className="ckpt-config-editor"
                />
              ) : null}
            </section>
          ) : null}
        </>
      ) : null}
    </div>
  );
}

/** How the host computed the diff (numpy or pure Python, how many processes), with a hint when numpy would help. */
function DiffEngineLine({ stats }: { stats: CheckpointDiff['stats'] }) {
  const text = diffEngineText(stats);
  return (
    <p className="muted ckpt-engine" data-testid="ckpt-engine">
      {text.line}
      {text.hint ? (
        <>
          <br />
          <span data-testid="ckpt-engine-hint">{text.hint}</span>
        </>
      ) : null}
    </p>
  );
}
