import { describe, expect, it } from 'vitest';
import {
  connectionChanged,
  errorDismissed,
  errorReported,
  maxErrorNotices,
  type AppData,
} from '../../../../../src/renderer/store/slices/app-slice';
import type { AppErrorData } from '../../../../../src/shared/errors';

const base: AppData = {
  shell: { kind: 'electron' },
  info: null,
  connection: { status: 'open' },
  errors: [],
  nextErrorId: 1,
};
const closed: AppErrorData = { code: 'TRANSPORT_CLOSED', message: 'Connection closed', retryable: true };
const internal: AppErrorData = { code: 'INTERNAL', message: 'boom', retryable: false };

describe('app state', () => {
  it('adds notices with increasing ids', () => {
    const one = errorReported(base, 'Loading app info', internal);
    const two = errorReported(one, 'Saving the theme', closed);
    expect(two.errors.map((n) => n.id)).toEqual([1, 2]);
    expect(two.nextErrorId).toBe(3);
  });

  it('replaces a repeat of the same failure instead of stacking it', () => {
    const once = errorReported(base, 'Saving the theme', internal);
    const twice = errorReported(once, 'Saving the theme', { ...internal, message: 'boom again' });
    expect(twice.errors).toHaveLength(1);
    expect(twice.errors[0]).toMatchObject({ id: 2, error: { message: 'boom again' } });
  });

  it(`keeps only the newest ${maxErrorNotices}`, () => {
    let state = base;
    for (let i = 0; i < maxErrorNotices + 3; i++) state = errorReported(state, `step ${i}`, internal);
    expect(state.errors).toHaveLength(maxErrorNotices);
    expect(state.errors[0]?.source).toBe('step 3');
  });

  it('dismisses by id', () => {
    const state = errorReported(errorReported(base, 'a', internal), 'b', internal);
    expect(errorDismissed(state, 1).errors.map((n) => n.source)).toEqual(['b']);
  });

  it('drops connection-closed notices once the connection is open again', () => {
    const withErrors = errorReported(errorReported(base, 'Saving the theme', closed), 'Loading app info', internal);
    const lost = connectionChanged(withErrors, { status: 'lost', code: 1006, reason: '' });
    expect(lost.errors).toHaveLength(2);
    const reopened = connectionChanged(lost, { status: 'open' });
    expect(reopened.connection).toEqual({ status: 'open' });
    expect(reopened.errors.map((n) => n.error.code)).toEqual(['INTERNAL']);
  });
});
