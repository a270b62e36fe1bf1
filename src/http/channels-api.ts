/**
 * The server API for channels, authorised by a server API key like the push API:
 * `GET /api/presence/:channel` (everyone in a channel, on every node) and `POST /api/subscriptions`
 * (join or leave channels for a user's or a client's connections, on whichever nodes hold them).
 */
import { z } from 'zod';
import { serverJoinsBody, type ServerJoins } from '../channels/server-joins.js';
import { HubError, toIssues } from '../errors.js';
import type { MaybePromise } from '../maybe.js';
import { statsOf, type PresenceClient } from '../presence/presence.js';
import { refuseApiRequest, type ApiKeys } from './api-keys.js';
import { errorResponse, parseJsonBody, type RestRequest, type RestResponse } from './request.js';

const historyQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(10_000).optional(),
    since: z.coerce.number().int().min(0).optional(),
    epoch: z.string().min(1).max(64).optional(),
  })
  .refine((q) => (q.since === undefined) === (q.epoch === undefined), { message: 'since and epoch go together', path: ['since'] });

export interface ChannelsApiDeps {
  readonly keys: ApiKeys;
  presence(channelId: string): MaybePromise<PresenceClient[]>;
  /** A channel's history (no permission check: the caller holds a server key); null when no namespace keeps history. */
  history: ((channelId: string, options: { limit?: number | undefined; since?: { offset: number; epoch: string } | undefined }) => unknown) | null;
  /** Applies the change here and relays it to the other nodes; returns the connections changed on this node. */
  joins(change: ServerJoins): number;
}

export function createChannelsApi(deps: ChannelsApiDeps) {
  return {
    async presence(req: RestRequest): Promise<RestResponse> {
      const refused = refuseApiRequest(deps.keys, req);
      if (refused !== null) return refused;
      if (req.name === '' || req.name.length > 256) return errorResponse(new HubError('invalid_input', 'The channel id must be 1-256 characters'));
      let clients: PresenceClient[];
      try {
        clients = await deps.presence(req.name);
      } catch {
        return errorResponse(new HubError('presence_unavailable'));
      }
      const stats = statsOf(clients);
      return { status: 200, body: { status: 200, channel_id: req.name, clients, ...stats } };
    },

    /** `?limit=N`, `?since=OFFSET&epoch=E`: as a `history` frame. */
    history(req: RestRequest): MaybePromise<RestResponse> {
      const refused = refuseApiRequest(deps.keys, req);
      if (refused !== null) return refused;
      const query = new URLSearchParams(req.query);
      const parsed = historyQuery.safeParse({ limit: query.get('limit') ?? undefined, since: query.get('since') ?? undefined, epoch: query.get('epoch') ?? undefined });
      if (!parsed.success || req.name === '' || req.name.length > 256) {
        return errorResponse(new HubError('invalid_input', 'Invalid history request', { issues: parsed.success ? [{ path: 'channel', message: 'must be 1-256 characters' }] : toIssues(parsed.error.issues) }));
      }
      if (deps.history === null) return errorResponse(new HubError('forbidden', 'No channel keeps history on this hub'));
      const { limit, since, epoch } = parsed.data;
      try {
        const answer = deps.history(req.name, { limit, since: since === undefined || epoch === undefined ? undefined : { offset: since, epoch } });
        const respond = (read: unknown): RestResponse => ({ status: 200, body: { status: 200, channel_id: req.name, ...(read as Record<string, unknown>) } });
        if (!(answer instanceof Promise)) return respond(answer);
        return answer.then(respond, (err: unknown) => {
          if (err instanceof HubError) return errorResponse(err);
          throw err;
        });
      } catch (err) {
        if (err instanceof HubError) return errorResponse(err);
        throw err;
      }
    },

    subscriptions(req: RestRequest): RestResponse {
      const refused = refuseApiRequest(deps.keys, req);
      if (refused !== null) return refused;
      const body = parseJsonBody(req);
      if (!body.ok) return errorResponse(body.error);
      const parsed = serverJoinsBody.safeParse(body.value);
      if (!parsed.success) return errorResponse(new HubError('invalid_input', 'Invalid subscription change', { issues: toIssues(parsed.error.issues) }));
      const { users = [], clients = [], subscribe = [], unsubscribe = [] } = parsed.data;
      const changed = deps.joins({ users, clients, subscribe, unsubscribe });
      return { status: 202, body: { status: 202, connections: changed } };
    },
  };
}
