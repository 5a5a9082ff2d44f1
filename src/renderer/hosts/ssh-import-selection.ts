import type { SshConfigPreview } from '../../shared/contract';

/**
 * Which ssh_config entries the user ticked. New aliases start ticked; ones that already exist as
 * profiles start unticked, since importing them again replaces what was saved.
 */
export type ImportSelection = ReadonlySet<string>;

export function initialImportSelection(preview: SshConfigPreview): ImportSelection {
  const existing = new Set(preview.existing);
  return new Set(preview.candidates.map((c) => c.alias).filter((alias) => !existing.has(alias)));
}

export function importSelectionToggled(selection: ImportSelection, alias: string, on: boolean): ImportSelection {
  const next = new Set(selection);
  if (on) next.add(alias);
  else next.delete(alias);
  return next;
}

export function importSelectAll(preview: SshConfigPreview): ImportSelection {
  return new Set(preview.candidates.map((c) => c.alias));
}

/** The aliases to send, in the file's order, and only ones the preview offered. */
export function selectedAliases(preview: SshConfigPreview, selection: ImportSelection): string[] {
  return preview.candidates.map((c) => c.alias).filter((alias) => selection.has(alias));
}

/** The import button's label: "Import 3 hosts (1 replaces an existing one)". */
export function importButtonLabel(preview: SshConfigPreview, selection: ImportSelection): string {
  const aliases = selectedAliases(preview, selection);
  if (aliases.length === 0) return 'Import';
  const existing = new Set(preview.existing);
  const replacing = aliases.filter((a) => existing.has(a)).length;
  const what = aliases.length === 1 ? '1 host' : `${aliases.length} hosts`;
  if (replacing === 0) return `Import ${what}`;
  return `Import ${what} (${replacing === 1 ? '1 replaces an existing one' : `${replacing} replace existing ones`})`;
}

/** A problem's place as editors link it: `file:line`. */
export function problemLocation(problem: { file: string; line: number }): string {
  return `${problem.file}:${problem.line}`;
}
