import { AppError } from '../../shared/errors';

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
