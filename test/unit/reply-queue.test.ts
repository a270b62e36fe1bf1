import { describe, expect, it } from 'vitest';
import { ReplyQueue } from '../../src/hub/reply-queue.js';

describe('ReplyQueue', () => {
  it('sends replies in ticket order whatever order they settle in, skipping empty ones', () => {
    const q = new ReplyQueue();
    const sent: string[] = [];
    const send = (f: string) => sent.push(f);
    const [a, b, c, d] = [q.reserve(), q.reserve(), q.reserve(), q.reserve()];
    q.settle(c, 'c', send);
    q.settle(b, null, send);
    expect(sent).toEqual([]);
    q.settle(a, 'a', send);
    expect(sent).toEqual(['a', 'c']);
    expect(q.empty).toBe(false);
    q.settle(d, 'd', send);
    expect(sent).toEqual(['a', 'c', 'd']);
    expect(q.empty).toBe(true);
  });

  it('keeps order across compaction of a long-lived head', () => {
    const q = new ReplyQueue();
    const sent: string[] = [];
    const send = (f: string) => sent.push(f);
    const slow = q.reserve();
    const tickets = Array.from({ length: 200 }, () => q.reserve());
    // Drain in waves so the head passes the compaction threshold while later tickets are pending.
    q.settle(slow, 's', send);
    for (const t of tickets.slice(0, 150)) q.settle(t, String(t), send);
    const more = Array.from({ length: 10 }, () => q.reserve());
    for (const t of [...tickets.slice(150), ...more].reverse()) q.settle(t, String(t), send);
    expect(sent).toEqual(['s', ...tickets.map(String), ...more.map(String)]);
    expect(q.empty).toBe(true);
  });

  it('ignores a ticket settled twice', () => {
    const q = new ReplyQueue();
    const sent: string[] = [];
    const t = q.reserve();
    q.settle(t, 'x', (f) => sent.push(f));
    q.settle(t, 'y', (f) => sent.push(f));
    expect(sent).toEqual(['x']);
  });
});
