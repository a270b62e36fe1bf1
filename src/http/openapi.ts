/**
 * `GET /openapi.json`: an OpenAPI 3.1 description of every REST route, built once at start. Each
 * walker's request body is its own zod input schema as JSON Schema (zod 4's `z.toJSONSchema`, input
 * side: the schema that validates the body); a schema JSON Schema cannot express (a `z.custom`, a
 * Date, a recursive type) is described as any object, and its description says so. Error bodies
 * and their statuses come from the error catalogue.
 */
import { z } from 'zod';
import { errorCatalogue, type ErrorCode } from '../errors.js';
import type { LoadedWalker } from '../walkers/loader.js';
import { batchBody, directualNotification, MAX_BATCH, targetedNotification } from './notify-schema.js';
import { serverJoinsBody } from '../channels/server-joins.js';
import type { LoadedCollection } from '../collections/loader.js';
import { collectionDocs } from './openapi-items.js';

type Json = Record<string, unknown>;

export interface OpenApiSources {
  readonly walkers: ReadonlyMap<string, LoadedWalker>;
  readonly version: string;
  /** Whether `/metrics` is on this port (false with `metricsPort`). */
  readonly metricsHere: boolean;
  /** Collections served at `/items/:collection` (docs/collections.md). */
  readonly collections?: ReadonlyMap<string, LoadedCollection>;
}

/** The JSON Schema of a zod schema's input, or a permissive schema saying why there is none. */
export function inputJsonSchema(schema: z.ZodType, what: string): Json {
  try {
    const converted = z.toJSONSchema(schema, { io: 'input', cycles: 'throw' }) as Json;
    delete converted['$schema'];
    return converted;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { type: 'object', description: `${what}: its schema has no JSON Schema form (${reason}); any JSON object is described here, the hub still validates it` };
  }
}

const errorRef = { $ref: '#/components/schemas/Error' };
const jsonContent = (schema: Json) => ({ 'application/json': { schema } });

/** Response entries for error codes, grouped by their catalogue status. */
function errors(codes: readonly ErrorCode[]): Json {
  const byStatus = new Map<string, ErrorCode[]>();
  for (const code of codes) {
    // walker_failed carries whatever 4xx the walker chose.
    const key = code === 'walker_failed' ? '4XX' : String(errorCatalogue[code].status);
    byStatus.set(key, [...(byStatus.get(key) ?? []), code]);
  }
  const out: Json = {};
  for (const [status, list] of byStatus) out[status] = { description: list.map((c) => `\`${c}\`: ${errorCatalogue[c].message}`).join('; '), content: jsonContent(errorRef) };
  return out;
}

const BODY_ERRORS: ErrorCode[] = ['invalid_json', 'payload_too_large', 'unsupported_media_type', 'invalid_input'];

function walkerPath(walker: LoadedWalker): Json {
  const codes: ErrorCode[] = ['invalid_token', ...BODY_ERRORS, 'walker_failed', 'internal', 'store_unavailable', 'unavailable', 'walker_timeout'];
  if (walker.auth) codes.push('unauthorized');
  return {
    post: {
      operationId: `walker_${walker.name}`,
      tags: ['walkers'],
      summary: walker.description ?? `Run the ${walker.name} walker`,
      security: walker.auth ? [{ bearer: [] }] : [{}, { bearer: [] }],
      requestBody: { required: false, content: jsonContent({ $ref: `#/components/schemas/walker.${walker.name}` }) },
      responses: {
        '200': { description: 'The walker ran; its reports', content: jsonContent({ $ref: '#/components/schemas/WalkerReply' }) },
        ...errors(codes),
      },
    },
  };
}

export function createOpenApiDocument(sources: OpenApiSources): Json {
  const walkers = [...sources.walkers.values()];
  const schemas: Json = {
    Error: {
      type: 'object',
      required: ['status', 'error'],
      properties: {
        status: { type: 'integer', description: 'The HTTP status again' },
        error: {
          type: 'object',
          required: ['code', 'message'],
          properties: {
            code: { type: 'string', enum: Object.keys(errorCatalogue) },
            message: { type: 'string' },
            issues: { type: 'array', items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } } },
            error_id: { type: 'string', description: 'On internal errors: the id of the log line with the details' },
          },
        },
      },
    },
    WalkerReply: { type: 'object', required: ['status', 'reports'], properties: { status: { const: 200 }, reports: { type: 'array', items: {} } } },
    User: { type: 'object', required: ['id', 'email', 'root_id'], properties: { id: { type: 'string' }, email: { type: 'string' }, root_id: { type: 'string' } } },
    Credentials: { type: 'object', required: ['email', 'password'], properties: { email: { type: 'string', format: 'email' }, password: { type: 'string', minLength: 8 } } },
    Notification: { oneOf: [inputJsonSchema(targetedNotification, 'notification'), inputJsonSchema(directualNotification, 'Directual notification')] },
    NotificationBatch: {
      ...inputJsonSchema(batchBody, 'batch'),
      properties: { notifications: { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: { $ref: '#/components/schemas/Notification' } } },
    },
    SubscriptionChange: inputJsonSchema(serverJoinsBody, 'subscription change'),
    PresenceClient: { type: 'object', required: ['client_id', 'root_id'], properties: { client_id: { type: 'string' }, root_id: { type: 'string' } } },
    Delivered: {
      type: 'object',
      description: 'Connections on this node targeted, by kind (other nodes deliver to their own)',
      properties: Object.fromEntries(['users', 'channels', 'clients', 'broadcast'].map((k) => [k, { type: 'integer', minimum: 0 }])),
    },
  };
  for (const walker of walkers) {
    const schema = inputJsonSchema(walker.input, `walker ${walker.name}`);
    const where = walker.methods.has('post') ? '' : ' (WebSocket only: the `context` of a `walker` frame; no REST route)';
    schemas[`walker.${walker.name}`] = { ...schema, description: `${schema['description'] ?? `Input of walker ${walker.name}`}${where}` };
  }

  const paths: Json = {};
  for (const walker of walkers) if (walker.methods.has('post')) paths[`/walker/${walker.name}`] = walkerPath(walker);

  const credentials = { required: true, content: jsonContent({ $ref: '#/components/schemas/Credentials' }) };
  const userReply = (status: number, extra: Json) =>
    jsonContent({ type: 'object', required: ['status', 'user', ...Object.keys(extra)], properties: { status: { const: status }, user: { $ref: '#/components/schemas/User' }, ...extra } });
  paths['/user/register'] = {
    post: { operationId: 'register', tags: ['accounts'], requestBody: credentials, responses: { '201': { description: 'Registered', content: userReply(201, {}) }, ...errors(['email_taken', 'rate_limited', 'store_unavailable', ...BODY_ERRORS]) } },
  };
  paths['/user/login'] = {
    post: {
      operationId: 'login',
      tags: ['accounts'],
      requestBody: credentials,
      responses: { '200': { description: 'A token', content: userReply(200, { token: { type: 'string' } }) }, ...errors(['invalid_credentials', 'rate_limited', 'store_unavailable', 'invalid_json', 'payload_too_large', 'unsupported_media_type']) },
    },
  };
  paths['/user/logout'] = {
    post: {
      operationId: 'logout',
      tags: ['accounts'],
      security: [{ bearer: [] }],
      parameters: [{ name: 'all', in: 'query', required: false, schema: { type: 'string', enum: ['true'] }, description: 'revoke every token of the user' }],
      responses: {
        '200': { description: 'Revoked', content: jsonContent({ type: 'object', properties: { status: { const: 200 }, revoked: { enum: ['token', 'all'] } } }) },
        ...errors(['unauthorized', 'invalid_token', 'store_unavailable']),
      },
    },
  };
  const notifyErrors = errors(['not_found', 'invalid_api_key', ...BODY_ERRORS, 'unavailable']);
  paths['/api/notify'] = {
    post: {
      operationId: 'notify',
      tags: ['push'],
      summary: 'Send one notification to users, channels, clients or everyone',
      security: [{ apiKey: [] }, { apiKeyBearer: [] }],
      requestBody: { required: true, content: jsonContent({ $ref: '#/components/schemas/Notification' }) },
      responses: {
        '202': { description: 'Published', content: jsonContent({ type: 'object', required: ['status', 'delivered'], properties: { status: { const: 202 }, delivered: { $ref: '#/components/schemas/Delivered' } } }) },
        ...notifyErrors,
      },
    },
  };
  paths['/api/notify/batch'] = {
    post: {
      operationId: 'notifyBatch',
      tags: ['push'],
      summary: 'Send many notifications, in order; all are validated before any is sent',
      security: [{ apiKey: [] }, { apiKeyBearer: [] }],
      requestBody: { required: true, content: jsonContent({ $ref: '#/components/schemas/NotificationBatch' }) },
      responses: {
        '202': {
          description: 'Published, in order',
          content: jsonContent({
            type: 'object',
            required: ['status', 'results'],
            properties: { status: { const: 202 }, results: { type: 'array', items: { type: 'object', properties: { delivered: { $ref: '#/components/schemas/Delivered' } } } } },
          }),
        },
        ...notifyErrors,
      },
    },
  };
  paths['/api/subscriptions'] = {
    post: {
      operationId: 'subscriptions',
      tags: ['push'],
      summary: "Join or leave channels for a user's or a client's connections, on every node (no namespace rule applies)",
      security: [{ apiKey: [] }, { apiKeyBearer: [] }],
      requestBody: { required: true, content: jsonContent({ $ref: '#/components/schemas/SubscriptionChange' }) },
      responses: {
        '202': {
          description: 'Applied here and sent to the other nodes; each connection changed gets `unsubscribed` / `subscribed` (no uid)',
          content: jsonContent({ type: 'object', required: ['status', 'connections'], properties: { status: { const: 202 }, connections: { type: 'integer', minimum: 0, description: 'connections changed on this node' } } }),
        },
        ...notifyErrors,
      },
    },
  };
  paths['/api/presence/{channel}'] = {
    get: {
      operationId: 'presence',
      tags: ['push'],
      summary: 'Everyone in a channel, on every node (channels of namespaces with presence)',
      security: [{ apiKey: [] }, { apiKeyBearer: [] }],
      parameters: [{ name: 'channel', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 256 } }],
      responses: {
        '200': {
          description: 'Who is in the channel',
          content: jsonContent({
            type: 'object',
            required: ['status', 'channel_id', 'clients', 'num_clients', 'num_users'],
            properties: {
              status: { const: 200 },
              channel_id: { type: 'string' },
              clients: { type: 'array', items: { $ref: '#/components/schemas/PresenceClient' } },
              num_clients: { type: 'integer', minimum: 0 },
              num_users: { type: 'integer', minimum: 0 },
            },
          }),
        },
        ...errors(['not_found', 'invalid_api_key', 'invalid_input', 'presence_unavailable']),
      },
    },
  };
  paths['/api/history/{channel}'] = {
    get: {
      operationId: 'history',
      tags: ['push'],
      summary: 'Publications kept for a channel (namespaces with history): the latest `limit`, or those after `since` in `epoch`',
      security: [{ apiKey: [] }, { apiKeyBearer: [] }],
      parameters: [
        { name: 'channel', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 256 } },
        { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 10000 } },
        { name: 'since', in: 'query', required: false, schema: { type: 'integer', minimum: 0 }, description: 'an offset; with `epoch`' },
        { name: 'epoch', in: 'query', required: false, schema: { type: 'string' } },
      ],
      responses: {
        '200': {
          description: 'Where the channel is, and the publications',
          content: jsonContent({
            type: 'object',
            required: ['status', 'channel_id', 'offset', 'epoch', 'publications'],
            properties: {
              status: { const: 200 },
              channel_id: { type: 'string' },
              offset: { type: 'integer', minimum: 0 },
              epoch: { type: 'string' },
              publications: { type: 'array', items: { type: 'object', required: ['offset', 'data'], properties: { offset: { type: 'integer' }, data: {} } } },
            },
          }),
        },
        ...errors(['not_found', 'invalid_api_key', 'invalid_input', 'forbidden']),
      },
    },
  };
  const get = (operationId: string, description: string, responses: Json) => ({ get: { operationId, tags: ['operations'], description, responses } });
  paths['/healthz'] = get('healthz', 'Liveness: 200 while the process serves, also while draining', { '200': { description: 'Alive', content: jsonContent({ type: 'object', properties: { status: { const: 'ok' } } }) } });
  paths['/readyz'] = get('readyz', 'Readiness: 503 once the hub is draining, so a load balancer stops sending', {
    '200': { description: 'Taking traffic', content: jsonContent({ type: 'object', properties: { status: { const: 'ready' } } }) },
    '503': { description: 'Draining', content: jsonContent({ type: 'object', properties: { status: { const: 'draining' } } }) },
  });
  if (sources.metricsHere) paths['/metrics'] = get('metrics', 'Prometheus metrics, text format', { '200': { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } } });
  if (sources.collections !== undefined && sources.collections.size > 0) {
    const docs = collectionDocs(sources.collections, { errors, inputJsonSchema });
    Object.assign(paths, docs.paths);
    Object.assign(schemas, docs.schemas);
  }
  paths['/openapi.json'] = get('openapi', 'This document', { '200': { description: 'OpenAPI 3.1', content: jsonContent({ type: 'object' }) } });

  return {
    openapi: '3.1.0',
    info: { title: 'Walker Hub', version: sources.version, description: 'REST routes of a Walker Hub. The WebSocket protocol (`/websocket`) is described in docs/protocol.md of the walker-hub package.' },
    tags: [{ name: 'walkers' }, ...(sources.collections !== undefined && sources.collections.size > 0 ? [{ name: 'items' }] : []), { name: 'accounts' }, { name: 'push' }, { name: 'operations' }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A user token (from /user/login, or signed by a trusted backend or the identity provider)' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'A server API key (WALKER_HUB_API_KEY)' },
        apiKeyBearer: { type: 'http', scheme: 'bearer', description: 'A server API key as a Bearer token' },
      },
    },
  };
}
