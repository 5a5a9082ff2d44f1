import type { ThemePreference } from '../store/slices/prefs-slice';

/**
 * The value of `data-theme` on <html>. "system" sets none, so the CSS follows `prefers-color-scheme`
 * (and keeps following it when the OS switches); an explicit choice pins the palette.
 */
export function themeAttribute(preference: ThemePreference): 'light' | 'dark' | null {
  return preference === 'system' ? null : preference;
}

export function applyTheme(root: HTMLElement, preference: ThemePreference): void {
  const value = themeAttribute(preference);
  if (value === null) delete root.dataset.theme;
  else root.dataset.theme = value;
}

export const themeChoices: ReadonlyArray<{ readonly value: ThemePreference; readonly label: string }> = [
  { value: 'system', label: 'System' },
  { value: 'light', label: 'Light' },
  { value: 'dark', label: 'Dark' },
];
