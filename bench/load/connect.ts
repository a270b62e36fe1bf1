import type { RawWs } from './rawws.js';

/**
 * Opens `count` sockets with at most `concurrency` upgrades in flight (the listen backlog is
 * finite), resolving once every one is ready. `open` must register each socket it creates so the
 * caller can close them all even when one fails.
 */
export async function openMany(count: number, concurrency: number, open: (index: number) => RawWs): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) await open(next++).ready;
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, concurrency), count) }, lane));
}
