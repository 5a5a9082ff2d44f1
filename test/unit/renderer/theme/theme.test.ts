import { describe, expect, it } from 'vitest';
import { themeAttribute } from '../../../../src/renderer/theme/theme';

describe('themeAttribute', () => {
  it('sets no attribute for system so CSS follows prefers-color-scheme', () => {
    expect(themeAttribute('system')).toBeNull();
  });

  it('pins an explicit choice', () => {
    expect(themeAttribute('light')).toBe('light');
    expect(themeAttribute('dark')).toBe('dark');
  });
});
