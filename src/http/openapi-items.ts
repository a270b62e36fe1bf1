/**
 * The OpenAPI paths and schemas of `/items/:collection` for each loaded collection: its item (the
 * schema's fields plus the hub-kept ones), what a create and an update take, and the query string.
 */
import type { z } from 'zod';
import type { LoadedCollection } from '../collections/loader.js';
import type { ErrorCode } from '../errors.js';
import { DEFAULT_ITEMS_LIMIT, MAX_ITEMS_LIMIT, MAX_ITEMS_OFFSET } from '../protocol.js';

type Json = Record<string, unknown>;

/** What openapi.ts lends: error responses by code, and a zod schema's JSON Schema. */
export interface DocHelpers {
  errors(codes: readonly ErrorCode[]): Json;
  inputJsonSchema(schema: z.ZodType, what: string): Json;
}

const jsonContent = (schema: Json) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const dataOf = (schema: Json) => jsonContent({ type: 'object', required: ['data'], properties: { data: schema } });
const security = [{}, { bearer: [] }, { apiKeyBearer: [] }];

const queryParameters: Json[] = [
  { name: 'filter', in: 'query', schema: { type: 'string' }, description: 'JSON: `{"field":{"_eq":value}}`; operators _eq, _neq, _lt, _lte, _gt, _gte, _contains, _in; _and/_or combine' },
  { name: 'sort', in: 'query', schema: { type: 'string' }, description: 'Comma-separated fields, `-` for descending (e.g. `-date_created`)' },
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_ITEMS_LIMIT, default: DEFAULT_ITEMS_LIMIT } },
  { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, maximum: MAX_ITEMS_OFFSET, default: 0 } },
  { name: 'fields', in: 'query', schema: { type: 'string' }, description: 'Comma-separated fields to return (`*`: all)' },
];
const fieldsParameter = queryParameters[4] as Json;

export function collectionDocs(collections: ReadonlyMap<string, LoadedCollection>, { errors, inputJsonSchema }: DocHelpers): { paths: Json; schemas: Json } {
  const paths: Json = {};
  const schemas: Json = {};
  for (const c of collections.values()) {
    const input = inputJsonSchema(c.schema as unknown as z.ZodType, `collection ${c.name}`);
    const properties = (input['properties'] as Json | undefined) ?? {};
    const kept = {
      id: { type: 'string', readOnly: true },
      owner: { type: ['string', 'null'], readOnly: true, description: 'Root id of the creator (null: created by a backend)' },
      [c.createdField]: { type: 'string', format: 'date-time', readOnly: true },
      [c.updatedField]: { type: 'string', format: 'date-time', readOnly: true },
    };
    schemas[`item.${c.name}`] = { type: 'object', description: c.description ?? `An item of ${c.name}`, required: ['id', 'owner', c.createdField, c.updatedField], properties: { ...kept, ...properties, ...kept } };
    schemas[`item.${c.name}.create`] = { ...input, additionalProperties: false };
    schemas[`item.${c.name}.update`] = { type: 'object', properties, additionalProperties: false, description: 'The fields to change; the item after the change must pass the schema' };
    const access = (action: 'read' | 'create' | 'update' | 'delete') => `Access: ${c.access[action]}.`;
    const common: ErrorCode[] = ['invalid_token', 'unauthorized', 'forbidden', 'invalid_query', 'store_unavailable', 'internal'];
    const body: ErrorCode[] = ['invalid_json', 'payload_too_large', 'unsupported_media_type', 'invalid_item'];
    paths[`/items/${c.name}`] = {
      get: {
        operationId: `items_${c.name}_read`,
        tags: ['items'],
        summary: `Read items of ${c.name}. ${access('read')}`,
        security,
        parameters: queryParameters,
        responses: { '200': { description: 'The items', content: dataOf({ type: 'array', items: ref(`item.${c.name}`) }) }, ...errors([...common, 'query_too_broad']) },
      },
      post: {
        operationId: `items_${c.name}_create`,
        tags: ['items'],
        summary: `Create one item of ${c.name}, or several (an array). ${access('create')}`,
        security,
        parameters: [fieldsParameter],
        requestBody: { required: true, content: jsonContent({ oneOf: [ref(`item.${c.name}.create`), { type: 'array', minItems: 1, maxItems: 100, items: ref(`item.${c.name}.create`) }] }) },
        responses: { '200': { description: 'The item(s) created', content: dataOf({ oneOf: [ref(`item.${c.name}`), { type: 'array', items: ref(`item.${c.name}`) }] }) }, ...errors([...common, ...body]) },
      },
    };
    const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
    paths[`/items/${c.name}/{id}`] = {
      get: {
        operationId: `items_${c.name}_get`,
        tags: ['items'],
        summary: `Read one item of ${c.name}. ${access('read')}`,
        security,
        parameters: [idParameter, fieldsParameter],
        responses: { '200': { description: 'The item', content: dataOf(ref(`item.${c.name}`)) }, ...errors([...common, 'not_found']) },
      },
      patch: {
        operationId: `items_${c.name}_update`,
        tags: ['items'],
        summary: `Change fields of one item of ${c.name}. ${access('update')}`,
        security,
        parameters: [idParameter, fieldsParameter],
        requestBody: { required: true, content: jsonContent(ref(`item.${c.name}.update`)) },
        responses: { '200': { description: 'The item after the change', content: dataOf(ref(`item.${c.name}`)) }, ...errors([...common, ...body, 'not_found', 'item_conflict']) },
      },
      delete: {
        operationId: `items_${c.name}_delete`,
        tags: ['items'],
        summary: `Delete one item of ${c.name}. ${access('delete')}`,
        security,
        parameters: [idParameter],
        responses: { '204': { description: 'Deleted' }, ...errors([...common, 'not_found', 'item_conflict']) },
      },
    };
  }
  return { paths, schemas };
}
