import { describe, expect, it } from 'vitest';
import {
  setupFinished,
  setupProgressReceived,
  setupStarted,
  stepFraction,
  SETUP_LOG_LINES,
} from '../../../../src/renderer/common/setup-run';

const event = (over: Partial<Parameters<typeof setupProgressReceived>[1]>) => ({
  name: 'gpu1',
  step: 'image' as const,
  status: 'running' as const,
  done: null,
  total: null,
  line: null,
  ...over,
});

describe('the Set up panel’s state', () => {
  it('lists the requested steps as waiting, in their order', () => {
    const run = setupStarted(['ready', 'checkout']);
    expect([...run.steps.keys()]).toEqual(['checkout', 'ready']);
    expect(run.steps.get('checkout')!.status).toBe('pending');
    expect(run.running).toBe(true);
  });

  it('follows a build: its lines, step n of m, then the result', () => {
    let run = setupStarted(['image']);
    run = setupProgressReceived(run, event({ line: 'Step 2/8 : COPY x', done: 2, total: 8 }));
    run = setupProgressReceived(run, event({ line: '+ echo post ran' }));
    const image = run.steps.get('image')!;
    expect(image).toMatchObject({
      status: 'running',
      done: 2,
      total: 8,
      log: ['Step 2/8 : COPY x', '+ echo post ran'],
    });
    expect(stepFraction(image)).toBe(0.25);
    run = setupProgressReceived(run, event({ status: 'done', line: 'built ptw-ptb/standard:abc' }));
    expect(run.steps.get('image')).toMatchObject({ status: 'done', summary: 'built ptw-ptb/standard:abc', done: null });
    expect(stepFraction(run.steps.get('image')!)).toBe(1);
  });

  it('keeps only the last lines of a long log', () => {
    let run = setupStarted(['image']);
    for (let i = 0; i < SETUP_LOG_LINES + 50; i++) run = setupProgressReceived(run, event({ line: `line ${i}` }));
    const log = run.steps.get('image')!.log;
    expect(log).toHaveLength(SETUP_LOG_LINES);
    expect(log.at(-1)).toBe(`line ${SETUP_LOG_LINES + 49}`);
  });

  it('takes the report as the last word, or the error when the command failed', () => {
    const started = setupStarted(['checkout', 'image']);
    const finished = setupFinished(started, {
      ok: true,
      data: {
        name: 'gpu1',
        ok: false,
        ptbCheckout: '/srv/ptb',
        image: null,
        steps: [
          { step: 'checkout', status: 'skipped', summary: 'already set up', log: [] },
          { step: 'image', status: 'failed', summary: 'the build failed in %post at: ls /x', log: ['+ ls /x'] },
        ],
      },
    });
    expect(finished.running).toBe(false);
    expect(finished.steps.get('image')).toMatchObject({ status: 'failed', log: ['+ ls /x'] });
    const refused = setupFinished(started, {
      ok: false,
      error: { code: 'NOT_FOUND', message: 'No host named gpu1', retryable: false },
    });
    expect(refused).toMatchObject({ running: false, error: { code: 'NOT_FOUND' } });
  });
});
