/** The broker's control topic: one parse per message, routed by type, bad ones logged once. */
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ControlRouter } from '../../src/broker/control.js';
import { createLogger } from '../../src/log.js';

function setup() {
  let listener: (text: string) => void = () => undefined;
  const sent: string[] = [];
  const lines: string[] = [];
  const broker = { sendControl: (text: string) => sent.push(text), onControl: (l: (text: string) => void) => (listener = l) };
  const router = new ControlRouter(broker, createLogger('warn', 'json', (line) => lines.push(line)));
  return { router, sent, lines, receive: (text: string) => listener(text) };
}

describe('ControlRouter', () => {
  it('sends versioned messages and hands each type only its own, checked by its schema', () => {
    const { router, sent, receive } = setup();
    const a: unknown[] = [];
    const b: unknown[] = [];
    router.on('a', z.object({ n: z.number() }), (m) => a.push(m.n));
    router.on('b', z.object({ s: z.string() }), (m) => b.push(m.s));
    router.send('a', { n: 1 });
    expect(JSON.parse(sent[0] as string)).toEqual({ v: 1, type: 'a', n: 1 });
    receive(sent[0] as string);
    receive(JSON.stringify({ v: 1, type: 'b', s: 'x' }));
    receive(JSON.stringify({ v: 1, type: 'newer', whatever: true }));
    expect(a).toEqual([1]);
    expect(b).toEqual(['x']);
  });

  it('logs unreadable text once, and a known type that fails its schema once per type', () => {
    const { router, lines, receive } = setup();
    const got: unknown[] = [];
    router.on('a', z.object({ n: z.number() }), (m) => got.push(m));
    receive('not json');
    receive('{"v":2}');
    receive(JSON.stringify({ v: 1, type: 'a', n: 'nope' }));
    receive(JSON.stringify({ v: 1, type: 'a', n: 'again' }));
    expect(got).toEqual([]);
    expect(lines.filter((l) => l.includes('ignoring unreadable control messages'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('ignoring unreadable \\"a\\" control messages'))).toHaveLength(1);
  });
});
