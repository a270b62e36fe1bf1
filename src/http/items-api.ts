/**
 * REST for collections' items, for backends and clients without a socket, Directus-style:
 * `GET/POST /items/:collection`, `GET/PATCH/DELETE /items/:collection/:id`. Answers are
 * `{"data": ...}`; a DELETE answers 204. Who calls: a server API key (`Authorization: Bearer <key>`)
 * acts as the server (no access rules; created items have no owner), a user token as that user,
 * nothing as the public identity; the collection's access rules are the socket's.
 *
 * GET takes the query from the query string: `filter` as JSON, `sort` and `fields` comma-separated,
 * `limit` and `offset` as numbers (e.g. `?filter={"user":{"_eq":"Ben"}}&sort=-date_created&limit=1`).
 */
import type { Authenticator } from '../auth/authenticator.js';
import { bearerToken, publicIdentity } from '../auth/identity.js';
import type { Actor, Collections } from '../collections/collections.js';
import { HubError, toIssues } from '../errors.js';
import { itemQuerySchema, type ItemQuery } from '../protocol.js';
import type { ApiKeys } from './api-keys.js';
import { errorResponse, parseJsonBody, RawBody, type RestRequest, type RestResponse } from './request.js';

export interface ItemsApiDeps {
  readonly collections: Collections;
  readonly authenticator: Authenticator;
  readonly keys: ApiKeys;
}

/** The query string as a collection query (checked for shape; fields are checked against the collection later). */
export function queryFromSearch(search: string): ItemQuery {
  const params = new URLSearchParams(search);
  const raw: Record<string, unknown> = {};
  for (const [key, value] of params) {
    if (key === 'filter') {
      try {
        raw[key] = JSON.parse(value);
      } catch {
        throw new HubError('invalid_query', 'filter must be JSON, e.g. filter={"user":{"_eq":"Ben"}}', { issues: [{ path: 'query.filter', message: 'is not valid JSON' }] });
      }
    } else if (key === 'limit' || key === 'offset') raw[key] = /^-?\d+$/.test(value) ? Number(value) : value;
    else raw[key] = value;
  }
  const parsed = itemQuerySchema.safeParse(raw);
  if (!parsed.success) throw new HubError('invalid_query', 'Invalid query string', { issues: toIssues(parsed.error.issues.map((i) => ({ ...i, path: ['query', ...i.path] }))) });
  return parsed.data;
}

export function createItemsApi(deps: ItemsApiDeps) {
  const { collections } = deps;

  const actorOf = (req: RestRequest): Actor => {
    if (deps.keys.enabled && deps.keys.accepts(req)) return { identity: null, owner: null };
    const token = bearerToken(req.authorization);
    if (token === null) return { identity: publicIdentity, owner: publicIdentity.root_id };
    try {
      const identity = deps.authenticator.verify(token);
      return { identity, owner: identity.root_id };
    } catch (err) {
      throw err instanceof HubError ? err : new HubError('invalid_token');
    }
  };

  const body = (req: RestRequest): unknown => {
    const parsed = parseJsonBody(req);
    if (!parsed.ok) throw parsed.error;
    return parsed.value;
  };

  const respond = async (work: () => Promise<RestResponse>): Promise<RestResponse> => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof HubError) return errorResponse(err);
      throw err;
    }
  };
  const ok = (data: unknown): RestResponse => ({ status: 200, body: { data } });

  return {
    /** `/items/:collection`: GET reads, POST creates (an item, or an array of items). */
    collection: (req: RestRequest): Promise<RestResponse> =>
      respond(async () => {
        const actor = actorOf(req);
        const method = req.method ?? 'post';
        if (method === 'get') return ok(await collections.read(req.name, actor, queryFromSearch(req.query)));
        if (method === 'post') {
          const data = body(req);
          const created = await collections.create(req.name, actor, data, queryFromSearch(req.query));
          return ok(Array.isArray(data) ? created : created[0]);
        }
        return errorResponse(new HubError('method_not_allowed', 'Use GET or POST on /items/:collection (PATCH and DELETE take /items/:collection/:id)'), { Allow: 'GET, POST' });
      }),

    /** `/items/:collection/:id`: GET reads, PATCH changes the given fields, DELETE deletes (204). */
    item: (req: RestRequest): Promise<RestResponse> =>
      respond(async () => {
        const actor = actorOf(req);
        const id = req.node ?? '';
        switch (req.method ?? 'post') {
          case 'get':
            return ok(await collections.readOne(req.name, actor, id, queryFromSearch(req.query)));
          case 'patch':
            return ok((await collections.update(req.name, actor, [id], body(req), queryFromSearch(req.query)))[0]);
          case 'delete':
            await collections.delete(req.name, actor, [id]);
            return { status: 204, body: new RawBody('application/json', '') };
          default:
            return errorResponse(new HubError('method_not_allowed', 'Use GET, PATCH or DELETE on /items/:collection/:id'), { Allow: 'GET, PATCH, DELETE' });
        }
      }),
  };
}
