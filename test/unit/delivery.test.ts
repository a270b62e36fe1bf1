/** Local delivery of keyed copies (one multi-channel notification arriving once per channel from another node). */
import { describe, expect, it } from 'vitest';
import { createLocalDelivery, MAX_SERVED_KEYS } from '../../src/hub/delivery.js';
import { Registry } from '../../src/hub/registry.js';
import type { Session } from '../../src/hub/session.js';

function setup() {
  const registry = new Registry<Session>();
  const got = new Map<string, string[]>();
  const add = (id: string, channels: string[]) => {
    const sent: string[] = [];
    got.set(id, sent);
    const session = { clientId: id, conn: { send: (f: string) => sent.push(f) } } as unknown as Session;
    registry.add(id, 'root', channels[0] as string, session);
    for (const c of channels.slice(1)) registry.join(id, c);
  };
  const deliver = createLocalDelivery(registry, { publish: () => undefined });
  const copy = (key: string, channel: string, frame = key) => deliver({ kind: 'channels', ids: [channel], frame, key });
  return { registry, got, add, copy };
}

describe('keyed copies of a multi-channel notification', () => {
  it('serve a connection in several of the channels once, and each member of each channel', () => {
    const { got, add, copy } = setup();
    add('ab', ['a', 'b']);
    add('a', ['a']);
    add('b', ['b']);
    expect(copy('k1', 'a')).toBe(2);
    expect(copy('k1', 'b')).toBe(1);
    expect(copy('k1', 'b')).toBe(0); // a repeated copy of one channel
    expect(Object.fromEntries(got)).toEqual({ ab: ['k1'], a: ['k1'], b: ['k1'] });
  });

  it('still reach a member that joined the earlier copy\'s channel after that copy went out', () => {
    const { registry, got, add, copy } = setup();
    add('x', ['b']);
    expect(copy('k1', 'a')).toBe(0); // x was not in a then
    registry.join('x', 'a');
    expect(copy('k1', 'b')).toBe(1); // so the copy through b is its one copy
    expect(got.get('x')).toEqual(['k1']);
    expect(copy('k1', 'a')).toBe(0);
  });

  it('forget the oldest key past MAX_SERVED_KEYS (a copy arriving that late may repeat)', () => {
    const { got, add, copy } = setup();
    add('ab', ['a', 'b']);
    copy('old', 'a');
    for (let i = 0; i < MAX_SERVED_KEYS; i++) copy(`k${i}`, 'a');
    expect(copy('old', 'b')).toBe(1);
    expect(got.get('ab')?.filter((f) => f === 'old')).toEqual(['old', 'old']);
  });
});
