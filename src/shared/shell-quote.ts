/** The one POSIX shell quoting of the app: every script sent to a host or shown to a user quotes its words here. */

/**
 * A word as POSIX `sh` reads it back unchanged: left bare when it has only characters no shell treats specially
 * (so commands stay readable), single-quoted otherwise; safe for any string, quotes and newlines included.
 */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
