/** The listen-socket life cycle with fake uWS operations. */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { Listener, type ListenOps } from '../../src/transport/listener.js';

interface FakeSocket {
  port: number;
  open: boolean;
}

function fakeOps(options: { taken?: number[]; pick?: number } = {}) {
  const calls: string[] = [];
  let pending: (() => void) | null = null;
  let hold = false;
  const ops: ListenOps<FakeSocket> = {
    bind: (port) => {
      calls.push(`bind ${port}`);
      const result = options.taken?.includes(port) ? null : { port: port === 0 ? (options.pick ?? 40000) : port, open: true };
      if (!hold) return Promise.resolve(result);
      return new Promise((resolve) => (pending = () => resolve(result)));
    },
    unbind: (socket) => {
      calls.push(`unbind ${socket.port}`);
      socket.open = false;
    },
    portOf: (socket) => socket.port,
  };
  return { ops, calls, holdNextBind: () => (hold = true), release: () => pending?.() };
}

describe('Listener', () => {
  it('re-binds a port picked by port 0 as a given port (so it can be shared and re-bound), guard on or off', async () => {
    for (const fdGuard of [true, false]) {
      const { ops, calls } = fakeOps({ pick: 41234 });
      const listener = new Listener(ops, { host: '127.0.0.1', port: 0, fdGuard }, silentLogger);
      expect(await listener.listen()).toBe(41234);
      listener.close();
      expect(calls).toEqual(['bind 0', 'unbind 41234', 'bind 41234', 'unbind 41234']);
    }
  });

  it('binds once without the guard, and reports a taken port', async () => {
    const { ops, calls } = fakeOps({ taken: [8000] });
    const plain = new Listener(ops, { host: '127.0.0.1', port: 9000, fdGuard: false }, silentLogger);
    expect(await plain.listen()).toBe(9000);
    plain.close();
    const taken = new Listener(ops, { host: '127.0.0.1', port: 8000, fdGuard: false }, silentLogger);
    await expect(taken.listen()).rejects.toThrow('could not listen on 127.0.0.1:8000');
    expect(calls).toEqual(['bind 9000', 'unbind 9000', 'bind 8000']);
    expect(plain.accepting).toBe(true);
  });

  it('a close() while binding closes the socket that arrives', async () => {
    const { ops, calls, holdNextBind, release } = fakeOps();
    holdNextBind();
    const listener = new Listener(ops, { host: '127.0.0.1', port: 9000, fdGuard: false }, silentLogger);
    const listening = listener.listen();
    listener.close();
    release();
    await expect(listening).rejects.toThrow('could not listen');
    expect(calls).toEqual(['bind 9000', 'unbind 9000']);
  });
});
