import type { ReactNode } from 'react';
import type { TextFieldSpec } from '../shell/form-field';
import type { LaunchEditor } from './launch-section';

type LaunchTextKey = 'command' | 'budget' | 'image' | 'cpus' | 'memory' | 'pids' | 'label';

/** The launch form's text fields as they read; a part of the form may give a hint that depends on the values. */
const launchTextFields: Record<LaunchTextKey, TextFieldSpec> = {
  command: {
    testId: 'launch-command',
    label: 'Command',
    hint: 'The program and its arguments; {model}, {prompt} and {prompt_file} are filled in. Quote words with spaces.',
    mono: true,
    spellCheck: false,
    placeholder: 'my-agent --model {model} {prompt}',
  },
  budget: {
    testId: 'launch-budget',
    label: 'Budget',
    hint: 'Agent time, e.g. 10h, 90m or 1h30m.',
    mono: true,
    spellCheck: false,
    placeholder: '10h',
  },
  image: {
    testId: 'launch-image',
    label: 'Image',
    hint: 'Empty: the task’s default image.',
    mono: true,
    spellCheck: false,
    placeholder: 'the task’s default image',
  },
  cpus: {
    testId: 'launch-cpus',
    label: 'CPUs',
    optional: true,
    hint: 'e.g. 16; empty: no limit.',
    mono: true,
    inputMode: 'decimal',
    placeholder: '16',
  },
  memory: {
    testId: 'launch-memory',
    label: 'Memory',
    optional: true,
    hint: 'e.g. 128g; empty: no limit.',
    mono: true,
    spellCheck: false,
    placeholder: '128g',
  },
  pids: {
    testId: 'launch-pids',
    label: 'Processes',
    optional: true,
    hint: 'At least 64; empty: the default.',
    mono: true,
    inputMode: 'numeric',
    placeholder: '4096',
  },
  label: {
    testId: 'launch-label',
    label: 'Label',
    optional: true,
    hint: 'A note for lists; not part of the spec’s hash.',
    placeholder: 'opus on gsm8k, seed 1',
  },
};

/**
 * The props of one text field, bound to the editor: its value (null reads as empty), error and setter; `hint`, when
 * given, says more than the table's.
 */
export function launchTextField(editor: LaunchEditor, field: LaunchTextKey, hint?: ReactNode) {
  const spec = launchTextFields[field];
  return {
    ...spec,
    hint: hint ?? spec.hint,
    error: editor.errors[field],
    value: editor.form[field] ?? '',
    onChange: (value: string) => editor.set(field, value),
  };
}
