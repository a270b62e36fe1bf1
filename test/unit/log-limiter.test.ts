/** The log limiter on a manual clock: bounded lines per message and window, then one summary. */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { LogLimiter } from '../../src/log-limiter.js';
import { ManualClock } from '../manual-clock.js';

function setup(lines = 3, intervalMs = 1000) {
  const out: Array<Record<string, unknown>> = [];
  const clock = new ManualClock();
  const limiter = new LogLimiter({ lines, intervalMs, clock });
  const log = limiter.wrap(createLogger('debug', 'json', (line) => out.push(JSON.parse(line) as Record<string, unknown>)));
  return { out, clock, limiter, log };
}

describe('LogLimiter', () => {
  it('writes the first lines of a message per window, then one summary at the end of the window', () => {
    const { out, clock, log } = setup(3, 1000);
    for (let i = 0; i < 1000; i++) log.error('walker threw', { i });
    expect(out.map((l) => l['i'])).toEqual([0, 1, 2]);
    clock.advance(999);
    expect(out).toHaveLength(3);
    clock.advance(1);
    expect(out).toHaveLength(4);
    expect(out[3]).toMatchObject({ level: 'error', msg: 'suppressed 997 similar lines', suppressed: 997, message: 'walker threw', interval_ms: 1000 });
    expect(clock.timers).toBe(0);

    // A new window: the message is written again.
    log.error('walker threw', { i: 'again' });
    expect(out[4]).toMatchObject({ msg: 'walker threw', i: 'again' });
  });

  it('counts each message on its own, across child loggers, and the summary carries the last offender bindings', () => {
    const { out, clock, log } = setup(2, 1000);
    const a = log.child({ client_id: 'a' });
    const b = log.child({ client_id: 'b' });
    a.warn('bad frame');
    b.warn('bad frame');
    b.warn('bad frame');
    a.error('route failed');
    expect(out.map((l) => [l['msg'], l['client_id']])).toEqual([
      ['bad frame', 'a'],
      ['bad frame', 'b'],
      ['route failed', 'a'],
    ]);
    clock.advance(1000);
    expect(out[3]).toMatchObject({ level: 'warn', msg: 'suppressed 1 similar lines', client_id: 'b', message: 'bad frame' });
    expect(out).toHaveLength(4);
  });

  it('does not limit info and debug lines', () => {
    const { out, log } = setup(1, 1000);
    for (let i = 0; i < 5; i++) log.info('user registered');
    for (let i = 0; i < 5; i++) log.debug('socket closed');
    expect(out).toHaveLength(10);
  });

  it('writes pending summaries on close, and none when nothing was suppressed', () => {
    const { out, clock, limiter, log } = setup(1, 60_000);
    log.error('x');
    log.error('x');
    log.error('x');
    log.warn('y');
    limiter.close();
    expect(out.map((l) => l['msg'])).toEqual(['x', 'y', 'suppressed 2 similar lines']);
    expect(clock.timers).toBe(0);
    clock.advance(60_000);
    expect(out).toHaveLength(3);
  });

  it('stays bounded when messages are many and distinct', () => {
    const { out, clock, log } = setup(1, 1000);
    for (let i = 0; i < 5000; i++) log.error(`distinct ${i}`);
    // Past the tracked-key cap new messages share one window, so most are suppressed, not written.
    expect(out.length).toBeLessThanOrEqual(1001);
    clock.advance(1000);
    expect(out.at(-1)).toMatchObject({ msg: expect.stringMatching(/^suppressed \d+ similar lines$/), message: '(other messages)' });
  });
});
