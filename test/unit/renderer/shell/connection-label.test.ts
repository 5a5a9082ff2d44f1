import { describe, expect, it } from 'vitest';
import {
  connectionIndicator,
  connectionStatusText,
  shellLabel,
  versionLabel,
} from '../../../../src/renderer/shell/connection-label';

describe('connection footer labels', () => {
  it('names the shell', () => {
    expect(shellLabel({ kind: 'electron' })).toBe('Electron');
    expect(shellLabel({ kind: 'serve', address: '127.0.0.1:8123' })).toBe('serve · 127.0.0.1:8123');
  });

  it('shows the version once known', () => {
    expect(versionLabel(null)).toBe('');
    expect(
      versionLabel({
        name: 'ptw',
        version: '0.1.0',
        home: '/h',
        shell: 'electron',
        platform: 'linux',
        nodeVersion: '20',
      }),
    ).toBe('v0.1.0');
  });

  it('maps connection states to an indicator', () => {
    expect(connectionIndicator({ status: 'open' })).toBe('online');
    expect(connectionIndicator({ status: 'connecting', reconnecting: true })).toBe('pending');
    expect(connectionIndicator({ status: 'unauthorized' })).toBe('offline');
    expect(connectionIndicator({ status: 'lost', code: 1006, reason: '' })).toBe('offline');
    expect(connectionStatusText({ status: 'unreachable', code: 1006 })).toBe('Disconnected');
  });
});
