/** Which uncaught exceptions count as a walker's own (walkers/uncaught.ts). */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { walkerCaused } from '../../src/walkers/uncaught.js';

const dir = resolve('/srv/app/walkers');
const byWalker = walkerCaused('/srv/app/walkers/');
const withStack = (stack: string) => Object.assign(new Error('x'), { stack });

describe('walkerCaused', () => {
  it('counts an Error made while walker code ran: a walker frame on its stack, as a path or a file URL', () => {
    expect(byWalker(withStack(`Error: x\n    at Timeout._onTimeout (${dir}/ticker.ts:4:11)\n    at listOnTimeout (node:internal/timers:581:17)`))).toBe(true);
    expect(byWalker(withStack(`TypeError: ctx.report: value cannot be encoded as JSON\n    at encodeJson (/srv/app/src/walkers/encode.ts:20:11)\n    at Timeout.<anonymous> (${pathToFileURL(dir).href}/nested/helper.mjs:2:3)`))).toBe(true);
  });

  it('does not count an Error made without a walker frame, nor one from a folder that only starts like it', () => {
    expect(byWalker(withStack('Error: x\n    at Redis.onError (/srv/app/node_modules/ioredis/built/Redis.js:1:1)\n    at listOnTimeout (node:internal/timers:581:17)'))).toBe(false);
    expect(byWalker(withStack(`Error: x\n    at f (${dir}-old/ticker.ts:4:11)`))).toBe(false);
    expect(byWalker(withStack(`Error: x\n    at f (${pathToFileURL(dir).href}2/ticker.ts:4:11)`))).toBe(false);
  });

  it('counts what only walker code throws: non-Errors, stackless or hostile values', () => {
    expect(byWalker('a string')).toBe(true);
    expect(byWalker(null)).toBe(true);
    expect(byWalker(Object.assign(new Error('x'), { stack: undefined }))).toBe(true);
    const hostile = new Proxy({}, { getPrototypeOf: () => { throw new Error('trap'); } });
    expect(byWalker(hostile)).toBe(true);
  });
});
