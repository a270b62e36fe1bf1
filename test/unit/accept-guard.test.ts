/** The open-file accept guard with a fake descriptor count, and the /proc parsing behind it. */
import { describe, expect, it } from 'vitest';
import { AcceptGuard } from '../../src/transport/accept-guard.js';
import { defaultMaxConnections, FALLBACK_MAX_CONNECTIONS, FD_RESERVE, openFileCount, openFileLimit } from '../../src/transport/open-files.js';

function guardWith(opts: { resumeOk?: boolean } = {}) {
  let open = 0;
  const events: string[] = [];
  const guard = new AcceptGuard({
    limit: 1000,
    pauseBelowFree: 32,
    resumeAtFree: 96,
    intervalMs: 60_000,
    count: () => open,
    pause: (n) => void events.push(`pause@${n}`),
    resume: (n) => {
      events.push(`resume@${n}`);
      return Promise.resolve(opts.resumeOk ?? true);
    },
  });
  return { guard, events, set: (n: number) => (open = n) };
}

describe('AcceptGuard', () => {
  it('pauses under 32 free descriptors and resumes only at 96 free (hysteresis)', async () => {
    const { guard, events, set } = guardWith();
    set(968);
    guard.check();
    expect(guard.accepting).toBe(true);
    set(969);
    guard.check();
    expect(guard.accepting).toBe(false);
    guard.check();
    set(905);
    guard.check();
    expect(events).toEqual(['pause@969']);
    set(904);
    guard.check();
    await Promise.resolve();
    expect(events).toEqual(['pause@969', 'resume@904']);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(guard.accepting).toBe(true);
  });

  it('keeps trying to resume when listening again fails', async () => {
    const { guard, events, set } = guardWith({ resumeOk: false });
    guard.start();
    try {
      set(990);
      guard.check();
      set(100);
      guard.check();
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(guard.accepting).toBe(false);
      guard.check();
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(events).toEqual(['pause@990', 'resume@100', 'resume@100']);
    } finally {
      guard.stop();
    }
  });

  it('does nothing once stopped, even for a resume already under way', async () => {
    const { guard, events, set } = guardWith();
    set(990);
    guard.check();
    set(10);
    guard.check();
    guard.stop();
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(guard.accepting).toBe(false);
    set(995);
    guard.check();
    expect(events).toEqual(['pause@990', 'resume@10']);
  });
});

describe('open files', () => {
  const limits = (soft: string) => `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            ${soft.padEnd(20)} 20000                files
Max locked memory         8388608              8388608              bytes
`;

  it('reads the soft limit from /proc/self/limits text', () => {
    expect(openFileLimit(limits('300'))).toBe(300);
    expect(openFileLimit(limits('unlimited'))).toBeNull();
    expect(openFileLimit('')).toBeNull();
    expect(openFileLimit(null)).toBeNull();
  });

  it('derives the cap from the limit, what is open and the reserve', () => {
    expect(defaultMaxConnections(20_000, 40)).toBe(20_000 - 40 - FD_RESERVE);
    expect(defaultMaxConnections(100, 40)).toBe(1);
    expect(defaultMaxConnections(null, 40)).toBe(FALLBACK_MAX_CONNECTIONS);
  });

  it.skipIf(process.platform !== 'linux')('counts this process’s descriptors on Linux', () => {
    const n = openFileCount();
    expect(n).toBeGreaterThan(2);
    expect(openFileLimit()).toBeGreaterThan(n as number);
  });
});
