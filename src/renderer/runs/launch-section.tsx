import { useId, type ReactNode } from 'react';
import type { LaunchFieldErrors, LaunchFormValues } from './launch-form';

/** What each part of the launch form edits: the values (with the host resolved), their errors, and the two setters. */
export interface LaunchEditor {
  readonly form: LaunchFormValues;
  /** Shown once the user has tried to launch. */
  readonly errors: LaunchFieldErrors;
  readonly update: (change: (values: LaunchFormValues) => LaunchFormValues) => void;
  readonly set: <K extends keyof LaunchFormValues>(field: K, value: LaunchFormValues[K]) => void;
}

/** One titled part of the launch form (Where, Task, Agent, …). */
export function LaunchSection({ title, children }: { title: string; children: ReactNode }) {
  const id = useId();
  return (
    <section className="launch-section" aria-labelledby={id}>
      <h3 id={id} className="launch-section-title">
        {title}
      </h3>
      {children}
    </section>
  );
}
