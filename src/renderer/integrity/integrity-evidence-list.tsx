import { useState } from 'react';
import type { IntegrityFlag } from '../../shared/contract-integrity';
import { evidenceOpen } from '../common/evidence-target';
import { isDarkTheme, TextDiffEditor } from '../common/text-diff-editor';
import { useAppStore } from '../store/store-context';
import { evidenceView } from './integrity-view-model';

/**
 * A flag's evidence, each piece as text with a way to open it in place: the dataset inspector at the row, the
 * checkpoint diff against the reference, the trace step (through the nav slice, which shows the other tab), or the
 * changed file against its clean copy in Monaco's diff editor, here. Everything is the agent's text: React text, or
 * Monaco's own DOM (never HTML).
 */
export function IntegrityEvidenceList({ flag, run }: { flag: IntegrityFlag; run: { id: string; imported: boolean } }) {
  const openEvidence = useAppStore((s) => s.nav.openEvidence);
  const [diffShown, setDiffShown] = useState<number | null>(null);
  return (
    <ul className="integrity-evidence">
      {flag.evidence.map((e, i) => {
        const ev = evidenceView(e);
        const open = evidenceOpen(e, flag.kind, run);
        return (
          <li key={i} data-testid="integrity-evidence">
            {ev.where ? <span className="cell-mono">{ev.where}</span> : null} {ev.title}
            {open ? (
              <button
                type="button"
                className="button button-quiet integrity-open"
                data-testid="integrity-evidence-open"
                aria-expanded={open.kind === 'diff' ? diffShown === i : undefined}
                onClick={() =>
                  open.kind === 'open' ? openEvidence(open.target) : setDiffShown((d) => (d === i ? null : i))
                }
              >
                {open.kind === 'diff' && diffShown === i ? 'Close the diff' : open.label}
              </button>
            ) : null}
            {open?.kind === 'diff' && diffShown === i ? (
              <>
                {open.cut ? (
                  <p className="muted">The texts are cut at 256 KiB each; the unified diff below is complete.</p>
                ) : null}
                <TextDiffEditor
                  name={open.name}
                  original={open.original}
                  modified={open.modified}
                  dark={isDarkTheme()}
                  testId="integrity-diff-editor"
                  className="integrity-diff-editor"
                  sides="the clean copy (or the base model's) on the left, the agent's on the right"
                  onlyChanges
                />
              </>
            ) : null}
            {ev.body ? <pre className="integrity-pre">{ev.body}</pre> : null}
          </li>
        );
      })}
    </ul>
  );
}
