import { describe, expect, it } from 'vitest';
import { hostKindLabel, sortHostsByName } from '../../../../src/renderer/common/host-order';
import { hostSummary } from '../fakes';

const host = (name: string) => hostSummary(name);

describe('sortHostsByName', () => {
  it('sorts case-insensitively with numbers in numeric order', () => {
    expect(sortHostsByName([host('gpu10'), host('GPU2'), host('alpha')]).map((h) => h.name)).toEqual([
      'alpha',
      'GPU2',
      'gpu10',
    ]);
  });

  it('labels kinds', () => {
    expect(hostKindLabel('ssh')).toBe('SSH');
    expect(hostKindLabel('local')).toBe('Local');
  });
});
