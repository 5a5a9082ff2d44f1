import { describe, expect, it } from 'vitest';
import { connectionStateAfterClose, describeConnection } from '../../../../src/renderer/transport/connection-state';

describe('connectionStateAfterClose', () => {
  it('treats 4401 as a refused token whether or not the socket had opened', () => {
    expect(connectionStateAfterClose(4401, 'bad token', false)).toEqual({ status: 'unauthorized' });
    expect(connectionStateAfterClose(4401, '', true)).toEqual({ status: 'unauthorized' });
  });

  it('calls a close before open unreachable', () => {
    expect(connectionStateAfterClose(1006, '', false)).toEqual({ status: 'unreachable', code: 1006 });
  });

  it('calls a close after open lost, keeping code and reason', () => {
    expect(connectionStateAfterClose(1001, 'server shutting down', true)).toEqual({
      status: 'lost',
      code: 1001,
      reason: 'server shutting down',
    });
  });
});

describe('describeConnection', () => {
  const address = '127.0.0.1:8123';

  it('shows nothing while open or on the first connect', () => {
    expect(describeConnection({ status: 'open' }, address)).toBeNull();
    expect(describeConnection({ status: 'connecting', reconnecting: false }, address)).toBeNull();
  });

  it('shows a busy screen while reconnecting', () => {
    expect(describeConnection({ status: 'connecting', reconnecting: true }, address)).toMatchObject({
      busy: true,
      canReconnect: false,
    });
  });

  it('offers no reconnect for a refused token, and points at the printed URL', () => {
    const problem = describeConnection({ status: 'unauthorized' }, address);
    expect(problem).toMatchObject({ canReconnect: false, busy: false });
    expect(problem?.message).toContain('#token=');
  });

  it('offers reconnect when unreachable or lost, naming the address', () => {
    const unreachable = describeConnection({ status: 'unreachable', code: 1006 }, address);
    const lost = describeConnection({ status: 'lost', code: 1001, reason: 'bye' }, address);
    expect(unreachable).toMatchObject({ canReconnect: true });
    expect(lost).toMatchObject({ canReconnect: true });
    expect(unreachable?.message).toContain(address);
    expect(lost?.message).toContain('code 1001: bye');
  });
});
