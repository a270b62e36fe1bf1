/**
 * Node 20 without the `ws` package: no global WebSocket and nothing to import. No retry can fix
 * that, so `ready` rejects at once (it used to stay pending while the client retried in silence).
 */
import { afterEach, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.unstubAllGlobals();
  vi.doUnmock('ws');
  vi.resetModules();
});

it('ready rejects with no_websocket, and the client stops', async () => {
  // Node 22+ has a global WebSocket; hide it so only `ws` could supply one.
  vi.stubGlobal('WebSocket', undefined);
  vi.doMock('ws', () => {
    throw new Error("Cannot find package 'ws'");
  });
  vi.resetModules();
  const { connect, HubClientError } = await import('../../src/client/index.js');
  const c = connect('http://127.0.0.1:1', { backoff: { minDelayMs: 0, maxDelayMs: 0, factor: 2 } });
  const errors: unknown[] = [];
  c.on('error', (f) => errors.push(f['error']));
  const error: unknown = await c.ready.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HubClientError);
  expect(error).toMatchObject({ code: 'no_websocket', status: 0, message: expect.stringContaining('npm install ws') });
  expect(errors).toEqual([{ code: 'no_websocket', message: (error as Error).message }]);
  expect(c.connected).toBe(false);
});
