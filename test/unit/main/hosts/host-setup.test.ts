import { describe, expect, it } from 'vitest';
import { BuildLines, buildProgress, checkoutScript, failedPostCommand } from '../../../../src/main/hosts/host-setup';

describe('host set-up, the pure parts', () => {
  it('reads the classic builder’s progress: its lines and step n of m', () => {
    expect(buildProgress({ stream: 'Step 3/9 : RUN ["/bin/sh","-e","-x","/.ptw/post.sh"]\n' })).toEqual({
      line: 'Step 3/9 : RUN ["/bin/sh","-e","-x","/.ptw/post.sh"]',
      step: { done: 3, total: 9 },
    });
    expect(buildProgress({ stream: ' ---> Using cache\n' })).toEqual({ line: ' ---> Using cache', step: null });
    // A RUN's stderr comes coloured: the words stay, the colours go.
    expect(buildProgress({ stream: '\u001b[91m+ echo post ran\n' }).line).toBe('+ echo post ran');
    expect(buildProgress({ stream: '\n' })).toEqual({ line: null, step: null });
    expect(buildProgress({ error: 'The command returned a non-zero code: 2' }).line).toContain('non-zero');
  });

  it('names the %post command that failed: the last one sh -x printed', () => {
    const log = ['Step 3/4 : RUN …', '+ chmod 1777 /tmp', '+ pip install nope', 'ERROR: No matching distribution', 'x'];
    expect(failedPostCommand(log)).toBe('pip install nope');
    expect(failedPostCommand(['Step 1/2 : FROM x', 'pull access denied'])).toBeNull();
  });

  it('quotes every path and revision it puts in the checkout script', () => {
    const script = checkoutScript({ dir: "/srv/ptb'; rm -rf /", repo: 'https://example.invalid/p.git', rev: '$(id)' });
    expect(script).toContain(`dir='/srv/ptb'\\''; rm -rf /'`);
    expect(script).toContain(`checkout --quiet '$(id)'`);
    expect(checkoutScript({ dir: '/srv/ptb', repo: null, rev: null })).not.toContain('clone');
  });

  it('puts a build’s output back into whole lines, however the builder cut it', () => {
    const lines = new BuildLines();
    expect(lines.push('\u001b[91m+ ')).toEqual([]);
    expect(lines.push('echo post ran\n+ cat /opt/x\r\nhalf')).toEqual(['+ echo post ran', '+ cat /opt/x']);
    expect(lines.push(' a line\u001b[0m\n')).toEqual(['half a line']);
    expect(lines.push('no newline')).toEqual([]);
    expect(lines.flush()).toEqual(['no newline']);
    expect(lines.flush()).toEqual([]);
  });
});
