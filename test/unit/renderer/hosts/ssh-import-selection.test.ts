import { describe, expect, it } from 'vitest';
import {
  importButtonLabel,
  importSelectAll,
  importSelectionToggled,
  initialImportSelection,
  problemLocation,
  selectedAliases,
} from '../../../../src/renderer/hosts/ssh-import-selection';
import type { SshConfigPreview } from '../../../../src/shared/contract';

const candidate = (alias: string, line: number) => ({
  alias,
  hostname: `${alias}.lab`,
  identityFiles: [],
  proxyJump: [],
  source: `/home/u/.ssh/config:${line}`,
});

const preview: SshConfigPreview = {
  file: '/home/u/.ssh/config',
  candidates: [candidate('gpu1', 1), candidate('gpu2', 5), candidate('bastion', 9)],
  problems: [{ file: '/home/u/.ssh/config', line: 14, message: 'Match blocks are not imported' }],
  notImported: [],
  existing: ['gpu2'],
};

describe('import selection', () => {
  it('ticks new hosts and leaves existing ones unticked', () => {
    const selection = initialImportSelection(preview);
    expect([...selection].sort()).toEqual(['bastion', 'gpu1']);
    expect(importButtonLabel(preview, selection)).toBe('Import 2 hosts');
  });

  it('toggles, selects all and sends aliases in file order', () => {
    let selection = importSelectionToggled(initialImportSelection(preview), 'gpu2', true);
    expect(selectedAliases(preview, selection)).toEqual(['gpu1', 'gpu2', 'bastion']);
    expect(importButtonLabel(preview, selection)).toBe('Import 3 hosts (1 replaces an existing one)');
    selection = importSelectionToggled(selection, 'gpu1', false);
    selection = importSelectionToggled(selection, 'bastion', false);
    expect(importButtonLabel(preview, selection)).toBe('Import 1 host (1 replaces an existing one)');
    expect(selectedAliases(preview, importSelectAll(preview))).toEqual(['gpu1', 'gpu2', 'bastion']);
  });

  it('never sends an alias the preview did not offer', () => {
    expect(selectedAliases(preview, new Set(['gpu1', 'ghost']))).toEqual(['gpu1']);
    expect(importButtonLabel(preview, new Set(['ghost']))).toBe('Import');
  });

  it('does not change the selection it was given', () => {
    const before = initialImportSelection(preview);
    importSelectionToggled(before, 'gpu2', true);
    expect(before.has('gpu2')).toBe(false);
  });

  it('places problems as file:line', () => {
    expect(problemLocation(preview.problems[0]!)).toBe('/home/u/.ssh/config:14');
  });
});
