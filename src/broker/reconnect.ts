/** Reconnect delays for the Redis clients: 100 ms, doubling, at most 2 s; never gives up. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(100 * 2 ** Math.max(0, Math.min(attempt - 1, 10)), 2000);
}
