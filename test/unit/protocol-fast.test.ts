/** The hand-checked `walker` frame accepts exactly what the zod schema accepts, with the same output. */
import { describe, expect, it } from 'vitest';
import { inboundFrameSchema, MAX_ID_LENGTH, walkerFrameFast } from '../../src/protocol.js';

const long = 'x'.repeat(MAX_ID_LENGTH + 1);
const max = 'x'.repeat(MAX_ID_LENGTH);
const cases: string[] = [
  '{"type":"walker","walker":"w"}',
  '{"type":"walker","walker":"w","context":{"a":1,"b":[1,2],"c":{"d":null}},"response":true,"uid":"u1","node":"n::1"}',
  '{"type":"walker","walker":"w","node":null,"extra":"stripped"}',
  `{"type":"walker","walker":"${max}","uid":"${max}","node":"${max}"}`,
  '{"type":"walker","walker":"w","context":{}}',
  '{"type":"walker","walker":"w","response":false}',
  // Each of these fails the schema.
  '{"type":"walker"}',
  '{"type":"walker","walker":""}',
  `{"type":"walker","walker":"${long}"}`,
  '{"type":"walker","walker":7}',
  '{"type":"walker","walker":"w","context":[]}',
  '{"type":"walker","walker":"w","context":null}',
  '{"type":"walker","walker":"w","context":"s"}',
  '{"type":"walker","walker":"w","response":"yes"}',
  '{"type":"walker","walker":"w","response":null}',
  '{"type":"walker","walker":"w","node":5}',
  `{"type":"walker","walker":"w","node":"${long}"}`,
  '{"type":"walker","walker":"w","uid":""}',
  '{"type":"walker","walker":"w","uid":5}',
  '{"type":"walker","walker":"w","uid":null}',
  `{"type":"walker","walker":"w","uid":"${long}"}`,
  '{"type":"ping","walker":"w"}',
];

describe('walkerFrameFast', () => {
  it.each(cases)('agrees with the zod schema: %s', (text) => {
    const value = JSON.parse(text) as Record<string, unknown>;
    const zod = inboundFrameSchema.safeParse(value);
    const fast = walkerFrameFast(value);
    if (zod.success && zod.data.type === 'walker') expect(fast).toEqual(zod.data);
    else expect(fast).toBeNull();
  });

  it('leaves a context with an own __proto__ key to zod, which strips it', () => {
    const value = JSON.parse('{"type":"walker","walker":"w","context":{"__proto__":{"polluted":1},"a":1}}') as Record<string, unknown>;
    expect(walkerFrameFast(value)).toBeNull();
    const zod = inboundFrameSchema.safeParse(value);
    expect(zod.success && zod.data.type === 'walker' ? Object.keys(zod.data.context ?? {}) : null).toEqual(['a']);
  });
});
