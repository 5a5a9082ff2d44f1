import { describe, expect, it, vi } from 'vitest';
import { EventHub } from '../../../../src/main/rpc/contract-router';

describe('EventHub', () => {
  it('gives a listener inside main every broadcast without counting it as a peer', () => {
    const hub = new EventHub();
    const listener = vi.fn();
    const stop = hub.listen(listener);
    expect(hub.peerCount).toBe(0);
    const peer = vi.fn();
    const detach = hub.attach(peer, 'ws-1');
    expect(hub.peerCount).toBe(1);
    hub.emit('prefs.changed', { theme: 'dark' });
    expect(listener).toHaveBeenCalledWith('prefs.changed', { theme: 'dark' });
    expect(peer).toHaveBeenCalledOnce();
    stop();
    detach();
    hub.emit('prefs.changed', { theme: 'light' });
    expect(listener).toHaveBeenCalledOnce();
    expect(hub.peerCount).toBe(0);
  });
});
