import type { ReactNode } from 'react';

/** One listed problem: where it is (a file and line, shown as code) and what is wrong. */
export interface ListedProblem {
  where?: string;
  message: ReactNode;
}

/**
 * Problems set apart in a warning box (`import-problems` in base.css): a title line, then one item each.
 * Lines a file could not read, hosts an import left out, a launch's second looks.
 */
export function ProblemList({
  testId,
  title,
  problems,
  className,
}: {
  testId: string;
  title: string;
  problems: readonly ListedProblem[];
  /** Another class on the box, beside `import-problems`. */
  className?: string;
}) {
  return (
    <div className={className ? `import-problems ${className}` : 'import-problems'} role="note" data-testid={testId}>
      <p className="import-problems-title">{title}</p>
      <ul>
        {problems.map((p, i) => (
          <li key={i}>
            {p.where !== undefined ? (
              <>
                <code>{p.where}</code> {p.message}
              </>
            ) : (
              p.message
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
