/** GET /openapi.json: a valid OpenAPI 3.1 document with every walker's own schema and every REST route. */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { errorCatalogue } from '../../src/errors.js';
import { loadWalkers, type LoadedWalker } from '../../src/walkers/loader.js';
import { defineWalker } from '../../src/walkers/define.js';
import { EXAMPLE_WALKERS, startHub, stopAll, walkersFrom } from '../helpers.js';

afterAll(stopAll);

type Json = Record<string, unknown>;

const custom = walkersFrom({
  with_transform: defineWalker({ auth: false, input: z.object({ when: z.string().transform((s) => s.length), tags: z.array(z.string()).max(3) }), run: () => 1 }),
  with_custom: defineWalker({ auth: false, input: z.object({ blob: z.custom<Uint8Array>((v) => v instanceof Uint8Array) }), run: () => 1 }),
  with_date: defineWalker({ input: z.object({ at: z.date() }), run: () => 1 }),
  no_input: defineWalker({ run: () => 1 }),
  socket_only: defineWalker({ methods: ['websocket'], input: z.object({ room: z.string().min(1) }), run: () => 1 }),
});

async function document(walkers: Map<string, LoadedWalker>): Promise<Json> {
  const hub = await startHub({}, { walkers });
  const res = await fetch(`${hub.url}/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json');
  return (await res.json()) as Json;
}

const expected = (schema: z.ZodType): Json => {
  const json = z.toJSONSchema(schema, { io: 'input' }) as Json;
  delete json['$schema'];
  return json;
};

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document listing every example walker with the JSON Schema of its zod input', async () => {
    const walkers = await loadWalkers(EXAMPLE_WALKERS);
    const doc = await document(new Map([...walkers, ...custom]));
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');

    const schemas = (doc['components'] as { schemas: Record<string, Json> }).schemas;
    const paths = doc['paths'] as Record<string, { post?: Json; get?: Json }>;
    expect(walkers.size).toBe(8); // the example walkers in walkers/
    for (const walker of walkers.values()) {
      const { description, ...schema } = schemas[`walker.${walker.name}`] as Json;
      expect(schema, walker.name).toEqual(expected(walker.input));
      expect(description).toEqual(expect.any(String));
      const route = paths[`/walker/${walker.name}`]?.post as Json;
      expect(route['requestBody']).toEqual({ required: false, content: { 'application/json': { schema: { $ref: `#/components/schemas/walker.${walker.name}` } } } });
      // The example walkers require a token: a 401 entry and bearer security.
      expect(Object.keys(route['responses'] as Json)).toEqual(expect.arrayContaining(['200', '401', '422', '413', '415', '500', '504']));
      expect(route['security']).toEqual([{ bearer: [] }]);
    }
  });

  it('describes transforms by their input, falls back to any object (saying why) when a schema has no JSON Schema form, and marks WebSocket-only walkers', async () => {
    const doc = await document(custom);
    expect((await new Validator().validate(doc)).valid).toBe(true);
    const schemas = (doc['components'] as { schemas: Record<string, Json> }).schemas;
    const paths = doc['paths'] as Record<string, unknown>;
    expect(schemas['walker.with_transform']).toMatchObject({ type: 'object', properties: { when: { type: 'string' }, tags: { type: 'array', maxItems: 3 } }, required: ['when', 'tags'] });
    expect(schemas['walker.with_custom']).toEqual({ type: 'object', description: expect.stringContaining('no JSON Schema form (Custom types cannot be represented in JSON Schema)') });
    expect(schemas['walker.with_date']).toEqual({ type: 'object', description: expect.stringContaining('Date cannot be represented') });
    expect(schemas['walker.no_input']).toMatchObject({ type: 'object', additionalProperties: {} });
    expect(schemas['walker.socket_only']).toMatchObject({ properties: { room: { type: 'string', minLength: 1 } }, description: expect.stringContaining('WebSocket only') });
    expect(paths['/walker/socket_only']).toBeUndefined();
    // Open to public callers: a token is optional (a present but bad one is still a 401).
    expect((paths['/walker/with_transform'] as { post: Json }).post['security']).toEqual([{}, { bearer: [] }]);
  });

  it('covers the account, push and operations routes, with the error body and codes of the catalogue', async () => {
    const doc = await document(new Map());
    const paths = doc['paths'] as Record<string, Json>;
    expect(Object.keys(paths).sort()).toEqual(['/api/history/{channel}', '/api/notify', '/api/notify/batch', '/api/presence/{channel}', '/api/subscriptions', '/healthz', '/metrics', '/openapi.json', '/readyz', '/user/login', '/user/logout', '/user/register']);
    const schemas = (doc['components'] as { schemas: Record<string, Json> }).schemas;
    const error = schemas['Error'] as { properties: { error: { properties: { code: { enum: string[] } } } } };
    expect(error.properties.error.properties.code.enum).toEqual(Object.keys(errorCatalogue));
    const notify = (paths['/api/notify'] as { post: { responses: Record<string, { description: string }> } }).post.responses;
    expect(Object.keys(notify).sort()).toEqual(['202', '400', '401', '404', '413', '415', '422', '503']);
    expect(notify['401']?.description).toContain('invalid_api_key');
    expect((schemas['Notification'] as { oneOf: unknown[] }).oneOf).toHaveLength(2);
  });
});
