import { describe, expect, it } from 'vitest';
import {
  defaultPrefs,
  effectivePrefs,
  prefsReceived,
  prefsSaveFinished,
  prefsSaveStarted,
  type PrefsData,
} from '../../../../../src/renderer/store/slices/prefs-slice';

const initial: PrefsData = { value: defaultPrefs, loaded: false, pending: null, saveSeq: 0 };
const failure = { code: 'INTERNAL' as const, message: 'disk full', retryable: false };

describe('prefs state', () => {
  it('applies received prefs', () => {
    expect(prefsReceived(initial, { theme: 'dark' })).toEqual({ ...initial, value: { theme: 'dark' }, loaded: true });
  });

  it('shows a change at once, before the node side confirms it', () => {
    const saving = prefsSaveStarted(initial, { theme: 'light' });
    expect(saving.saveSeq).toBe(1);
    expect(effectivePrefs(saving)).toEqual({ theme: 'light' });
    expect(saving.value).toEqual(defaultPrefs);
  });

  it('confirms from the reply', () => {
    const saving = prefsSaveStarted(initial, { theme: 'light' });
    const done = prefsSaveFinished(saving, 1, { ok: true, data: { theme: 'light' } });
    expect(done).toMatchObject({ value: { theme: 'light' }, pending: null, loaded: true });
  });

  it('rolls back a failed save to the confirmed value', () => {
    const saving = prefsSaveStarted(prefsReceived(initial, { theme: 'dark' }), { theme: 'light' });
    const failed = prefsSaveFinished(saving, 1, { ok: false, error: failure });
    expect(effectivePrefs(failed)).toEqual({ theme: 'dark' });
    expect(failed.pending).toBeNull();
  });

  it('ignores the reply to an older save while a newer one is in flight', () => {
    const first = prefsSaveStarted(initial, { theme: 'light' });
    const second = prefsSaveStarted(first, { theme: 'dark' });
    const afterOld = prefsSaveFinished(second, 1, { ok: true, data: { theme: 'light' } });
    expect(afterOld).toBe(second);
    expect(effectivePrefs(afterOld)).toEqual({ theme: 'dark' });
  });

  it('keeps an unconfirmed change on top of an event from another window', () => {
    const saving = prefsSaveStarted(initial, { theme: 'light' });
    const evented = prefsReceived(saving, { theme: 'dark' });
    expect(effectivePrefs(evented)).toEqual({ theme: 'light' });
  });
});
