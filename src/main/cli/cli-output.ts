import { AppError } from '../../shared/errors';

/**
 * The one escaping helper for text the CLI prints that someone else chose (an agent's folder, tensor and file names,
 * dataset rows, judges' texts, error messages quoting them): control characters other than newline and tab are
 * shown as `\xNN`, so the text cannot move the cursor, recolour the terminal, set its title or write its clipboard
 * (ESC and OSC sequences, C1 controls). JSON output needs none: JSON.stringify escapes them.
 */
export function terminalSafe(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

/** `--json` output: pretty-printed, one trailing newline. */
export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/** Columns padded to their widest cell, two spaces apart, no trailing spaces; the first row is the header. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** A usage error (exit 2). */
export function usage(message: string): AppError {
  return new AppError('INVALID_INPUT', message);
}

/** commander's accumulator for a repeatable option. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
