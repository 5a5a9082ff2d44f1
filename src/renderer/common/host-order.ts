import type { HostSummary } from '../../shared/contract';

/** Hosts by name, case-insensitively and with numbers in numeric order (gpu2 before gpu10). */
export function sortHostsByName(hosts: readonly HostSummary[]): HostSummary[] {
  return [...hosts].sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true, sensitivity: 'base' }));
}

export function hostKindLabel(kind: HostSummary['kind']): string {
  return kind === 'ssh' ? 'SSH' : 'Local';
}
