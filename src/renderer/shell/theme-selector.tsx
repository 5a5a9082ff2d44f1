import { useId } from 'react';
import { themePreferenceSchema } from '../../shared/contract';
import { useAppStore } from '../store/store-context';
import { effectivePrefs } from '../store/slices/prefs-slice';
import { themeChoices } from '../theme/theme';
import { SelectOptions } from './form-field';

export function ThemeSelector() {
  const id = useId();
  const theme = useAppStore((s) => effectivePrefs(s.prefs).theme);
  const setTheme = useAppStore((s) => s.prefs.setTheme);
  return (
    <div className="theme-selector">
      <label htmlFor={id}>Theme</label>
      <select
        id={id}
        className="select"
        data-testid="theme-select"
        value={theme}
        onChange={(event) => {
          const parsed = themePreferenceSchema.safeParse(event.target.value);
          if (parsed.success) void setTheme(parsed.data);
        }}
      >
        <SelectOptions choices={themeChoices} />
      </select>
    </div>
  );
}
