/** Redis topic names and the versioned message format; cluster node lists. */
import { describe, expect, it } from 'vitest';
import { parseClusterNodes } from '../../src/broker/redis-cluster.js';
import { keySlot } from '../../src/broker/slot.js';
import { controlTopic, messageHead, parseMessage, parseTopic, targetTopic } from '../../src/broker/wire.js';

describe('broker wire format', () => {
  it('names one topic per target kind and id, and reads it back (ids may hold any character)', () => {
    for (const kind of ['users', 'channels', 'clients'] as const) {
      for (const id of ['n::0123', 'room with spaces', 'a:b:c', '']) {
        const topic = targetTopic('wh:', kind, id);
        expect(parseTopic('wh:', topic)).toEqual({ kind, id });
      }
    }
    expect(targetTopic('wh:', 'users', 'r')).toBe('wh:u:r');
    expect(targetTopic('wh:', 'channels', 'r')).toBe('wh:c:r');
    expect(targetTopic('wh:', 'clients', 'r')).toBe('wh:k:r');
    expect(parseTopic('wh:', controlTopic('wh:'))).toBeNull();
    expect(parseTopic('wh:', 'other:u:r')).toBeNull();
    expect(parseTopic('wh:', 'wh:x:r')).toBeNull();
  });

  it('carries sender, sequence and the frame text unchanged', () => {
    const frame = JSON.stringify({ type: 'chat', data: { message: 'a b  c\n1 2' } });
    expect(messageHead('node1', 0) + frame).toBe(`1 node1 0 ${frame}`);
    expect(parseMessage(messageHead('node1', 42) + frame)).toEqual({ origin: 'node1', seq: 42, body: frame });
    expect(parseMessage(messageHead('n', 0))).toEqual({ origin: 'n', seq: 0, body: '' });
  });

  it('refuses text of another version or shape', () => {
    for (const text of ['2 node 0 {}', '{}', '1 node', '1 node x {}', '1 node -1 {}', '1 node 1.5 {}', '']) expect(parseMessage(text)).toBeNull();
  });

  it('parses cluster node lists and refuses malformed entries', () => {
    expect(parseClusterNodes('127.0.0.1:7000, redis-b:7001,[::1]:7002')).toEqual([
      { host: '127.0.0.1', port: 7000 },
      { host: 'redis-b', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    for (const bad of ['host', 'host:0', 'host:70000', ':7000']) expect(() => parseClusterNodes(bad)).toThrow(/host:port/);
  });
});

describe('cluster key slots', () => {
  it('match the CRC16 reference value and honour hash tags', () => {
    // CRC16/XMODEM("123456789") = 0x31C3, the reference value of the Redis Cluster spec.
    expect(keySlot('123456789')).toBe(0x31c3);
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    expect(keySlot('foo{{bar}}zap')).toBe(keySlot('{bar'));
    expect(keySlot('wh:c:é')).toBeLessThan(16384);
  });
});
