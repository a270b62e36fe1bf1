import { describe, expect, it } from 'vitest';
import { Registry } from '../../src/hub/registry.js';

describe('Registry', () => {
  it('indexes clients by id, channel and user, and empties completely', () => {
    const r = new Registry<string>();
    r.add('a', 'root1', 'ch1', 'conn-a');
    r.add('b', 'root1', 'ch2', 'conn-b');
    r.add('c', 'root2', 'ch1', 'conn-c');
    expect(r.counts()).toEqual({ clients: 3, channels: 2, users: 2 });
    expect([...(r.clientsInChannel('ch1') ?? [])]).toEqual(['a', 'c']);
    expect([...(r.clientsOfUser('root1') ?? [])]).toEqual(['a', 'b']);
    expect(r.get('b')?.handle).toBe('conn-b');

    expect(r.join('a', 'ch2')).toBe(true);
    expect(r.join('a', 'ch2')).toBe(false);
    expect([...(r.clientsInChannel('ch2') ?? [])]).toEqual(['b', 'a']);
    expect(r.leave('a', 'ch2')).toBe(true);
    expect(r.leave('a', 'ch2')).toBe(false);

    r.setUser('c', 'root1');
    expect(r.clientsOfUser('root2')).toBeUndefined();
    expect(r.counts().users).toBe(1);

    for (const id of ['a', 'b', 'c']) expect(r.remove(id)?.id).toBe(id);
    expect(r.remove('a')).toBeUndefined();
    expect(r.counts()).toEqual({ clients: 0, channels: 0, users: 0 });
    expect([...r.all()]).toEqual([]);
  });

  it('refuses a duplicate client id and ignores operations on unknown clients', () => {
    const r = new Registry<null>();
    r.add('a', 'root', 'ch', null);
    expect(() => r.add('a', 'root', 'ch', null)).toThrow(/already registered/);
    expect(r.join('zzz', 'ch')).toBe(false);
    expect(r.leave('zzz', 'ch')).toBe(false);
    r.setUser('zzz', 'other');
    expect(r.counts()).toEqual({ clients: 1, channels: 1, users: 1 });
  });

  it('drops a channel as soon as its last member leaves, even the primary one', () => {
    const r = new Registry<null>();
    r.add('a', 'root', 'lobby', null);
    r.leave('a', 'lobby');
    expect(r.clientsInChannel('lobby')).toBeUndefined();
    expect(r.get('a')?.channels.size).toBe(0);
    r.remove('a');
    expect(r.counts()).toEqual({ clients: 0, channels: 0, users: 0 });
  });
});

describe('Registry target events', () => {
  it('reports the first member and the last one leaving of each user, channel and client', () => {
    const events: string[] = [];
    const r = new Registry<string>((kind, id, present) => events.push(`${present ? '+' : '-'}${kind}:${id}`));
    r.add('a', 'root1', 'ch1', 'conn-a');
    r.add('b', 'root1', 'ch1', 'conn-b');
    expect(events.splice(0)).toEqual(['+clients:a', '+users:root1', '+channels:ch1', '+clients:b']);
    r.join('a', 'ch2');
    r.join('b', 'ch2');
    r.leave('a', 'ch2');
    expect(events.splice(0)).toEqual(['+channels:ch2']);
    r.leave('b', 'ch2');
    r.leave('b', 'ch2');
    expect(events.splice(0)).toEqual(['-channels:ch2']);
    // The new user is tracked before the old one is dropped, so no target is ever briefly missing.
    r.setUser('a', 'root2');
    r.setUser('b', 'root2');
    expect(events.splice(0)).toEqual(['+users:root2', '-users:root1']);
    r.remove('a');
    r.remove('b');
    r.remove('b');
    expect(events.splice(0)).toEqual(['-clients:a', '-clients:b', '-users:root2', '-channels:ch1']);
  });
});
