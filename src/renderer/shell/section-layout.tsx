import type { ReactNode } from 'react';
import type { AppErrorData } from '../../shared/errors';
import type { Section } from '../store/slices/nav-slice';

export function SectionLayout({
  section,
  title,
  actions,
  children,
}: {
  section: Section;
  title: string;
  actions?: ReactNode;
  children: ReactNode;
}) {
  const headingId = `heading-${section}`;
  return (
    <section className="section" aria-labelledby={headingId}>
      <header className="section-header">
        <h1 id={headingId} className="section-title" data-testid={headingId}>
          {title}
        </h1>
        {actions ? <div className="section-actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

export function EmptyState({ testId, title, children }: { testId: string; title: string; children?: ReactNode }) {
  return (
    <div className="empty-state" data-testid={testId}>
      <p className="empty-title">{title}</p>
      {children}
    </div>
  );
}

export function LoadingState({ testId, text }: { testId: string; text: string }) {
  return (
    <p className="loading-state" data-testid={testId} role="status">
      {text}
    </p>
  );
}

export function ListError({
  testId,
  what,
  error,
  onRetry,
}: {
  testId: string;
  what: string;
  error: AppErrorData;
  onRetry: () => void;
}) {
  return (
    <div className="inline-error" data-testid={testId} role="alert">
      <span>
        <strong>Could not load {what}.</strong> {error.message}
      </span>
      <button type="button" className="button" onClick={onRetry}>
        Retry
      </button>
    </div>
  );
}

export function RefreshButton({ busy, onClick, testId }: { busy: boolean; onClick: () => void; testId: string }) {
  return (
    <button type="button" className="button" data-testid={testId} disabled={busy} onClick={onClick}>
      {busy ? 'Refreshing…' : 'Refresh'}
    </button>
  );
}
