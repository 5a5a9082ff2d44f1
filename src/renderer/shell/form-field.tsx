import { useId, type ReactNode } from 'react';

/** What a field hands its control: the ids that tie the label, the control and its help text together. */
export interface FormControlProps {
  id: string;
  'data-testid': string;
  'aria-invalid': boolean;
  'aria-describedby': string;
}

/**
 * One labelled form field: the control comes from `children`, and under it the error (with `<testId>-error`),
 * else a note, else the hint. Shared by the add-host and launch forms.
 */
export function FormField({
  testId,
  label,
  hint,
  note,
  error,
  optional = false,
  children,
}: {
  testId: string;
  label: string;
  hint?: ReactNode;
  note?: string | undefined;
  error?: string | undefined;
  optional?: boolean;
  children: (props: FormControlProps) => ReactNode;
}) {
  const id = useId();
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label className="field-label" htmlFor={id}>
        {label}
        {optional ? <span className="field-optional"> optional</span> : null}
      </label>
      {children({ id, 'data-testid': testId, 'aria-invalid': Boolean(error), 'aria-describedby': `${id}-help` })}
      <p className="field-help" id={`${id}-help`}>
        {error ? (
          <span className="field-error" data-testid={`${testId}-error`}>
            {error}
          </span>
        ) : note ? (
          <span className="field-note">{note}</span>
        ) : (
          hint
        )}
      </p>
    </div>
  );
}
