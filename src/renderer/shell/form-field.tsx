import { useId, type HTMLAttributes, type ReactNode } from 'react';

/** What a field hands its control: the ids that tie the label, the control and its help text together. */
export interface FormControlProps {
  id: string;
  'data-testid': string;
  'aria-invalid': boolean;
  'aria-describedby': string;
}

export interface FormFieldProps {
  testId: string;
  label: string;
  hint?: ReactNode;
  note?: string | undefined;
  error?: string | undefined;
  optional?: boolean;
  /** Another class on the field, beside `field`. */
  className?: string;
  /** The error's test id, where it is not `<testId>-error`. */
  errorTestId?: string;
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
  className,
  errorTestId = `${testId}-error`,
  children,
}: FormFieldProps & { children: (props: FormControlProps) => ReactNode }) {
  const id = useId();
  return (
    <div className={`field${className ? ` ${className}` : ''}${error ? ' field-invalid' : ''}`}>
      <label className="field-label" htmlFor={id}>
        {label}
        {optional ? <span className="field-optional"> optional</span> : null}
      </label>
      {children({ id, 'data-testid': testId, 'aria-invalid': Boolean(error), 'aria-describedby': `${id}-help` })}
      <p className="field-help" id={`${id}-help`}>
        {error ? (
          <span className="field-error" data-testid={errorTestId}>
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

export interface TextInputOptions {
  /** Monospace, for paths, addresses, ids and commands. */
  mono?: boolean;
  placeholder?: string;
  spellCheck?: boolean;
  inputMode?: HTMLAttributes<HTMLInputElement>['inputMode'];
}

/** How a text field reads (label, help, placeholder), apart from its value and error: a form's table of fields. */
export type TextFieldSpec = Omit<FormFieldProps, 'error' | 'note'> & TextInputOptions;

/** A {@link FormField} holding one text input, without autocomplete (hosts, paths and ids are not the browser's). */
export function TextField({
  value,
  onChange,
  mono = false,
  placeholder,
  spellCheck,
  inputMode,
  ...field
}: FormFieldProps & TextInputOptions & { value: string; onChange: (value: string) => void }) {
  return (
    <FormField {...field}>
      {(props) => (
        <input
          {...props}
          className={mono ? 'input input-mono' : 'input'}
          inputMode={inputMode}
          value={value}
          autoComplete="off"
          spellCheck={spellCheck}
          placeholder={placeholder}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
    </FormField>
  );
}

export interface SelectChoice {
  readonly value: string;
  readonly label: string;
}

/** The `<option>`s of a select, one per choice. */
export function SelectOptions({ choices }: { choices: readonly SelectChoice[] }) {
  return (
    <>
      {choices.map((choice) => (
        <option key={choice.value} value={choice.value}>
          {choice.label}
        </option>
      ))}
    </>
  );
}

/** A {@link FormField} holding a select of `choices`. */
export function SelectField({
  value,
  onChange,
  choices,
  ...field
}: FormFieldProps & { value: string; onChange: (value: string) => void; choices: readonly SelectChoice[] }) {
  return (
    <FormField {...field}>
      {(props) => (
        <select {...props} className="select input" value={value} onChange={(e) => onChange(e.target.value)}>
          <SelectOptions choices={choices} />
        </select>
      )}
    </FormField>
  );
}
