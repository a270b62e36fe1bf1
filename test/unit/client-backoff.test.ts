import { describe, expect, it } from 'vitest';
import { backoffDelay, defaultBackoff } from '../../src/client/backoff.js';
import { Emitter } from '../../src/client/emitter.js';

describe('reconnect backoff', () => {
  it('doubles up to the cap, with jitter in the upper half of each step', () => {
    const options = { minDelayMs: 100, maxDelayMs: 1000, factor: 2 };
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, options, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, options, () => 0))).toEqual([50, 100, 200, 400, 500, 500]);
    expect(backoffDelay(0, defaultBackoff, () => 0.5)).toBe(375);
  });
});

describe('listeners', () => {
  it('a throwing listener does not keep the frame from the others', () => {
    const errors: unknown[] = [];
    const got: string[] = [];
    const emitter = new Emitter<number>((err) => errors.push(err));
    emitter.on('x', () => {
      throw new Error('boom');
    });
    emitter.on('x', (n) => got.push(`typed ${n}`));
    emitter.onAny((type, n) => got.push(`any ${type} ${n}`));
    emitter.emit('x', 1);
    emitter.emit('y', 2);
    emitter.off('x');
    emitter.emit('x', 3);
    expect(got).toEqual(['typed 1', 'any x 1', 'any y 2', 'any x 3']);
    expect(errors).toHaveLength(1);
  });
});
