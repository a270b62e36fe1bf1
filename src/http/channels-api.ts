/**
 * The server API for channels, authorised by a server API key like the push API:
 * `GET /api/presence/:channel` (everyone in a channel, on every node) and `POST /api/subscriptions`
 * (join or leave channels for a user's or a client's connections, on whichever nodes hold them).
 */
import { serverJoinsBody, type ServerJoins } from '../channels/server-joins.js';
import { HubError, toIssues } from '../errors.js';
import type { MaybePromise } from '../maybe.js';
import { statsOf, type PresenceClient } from '../presence/presence.js';
import { refuseApiRequest, type ApiKeys } from './api-keys.js';
import { errorResponse, parseJsonBody, type RestRequest, type RestResponse } from './request.js';

export interface ChannelsApiDeps {
  readonly keys: ApiKeys;
  presence(channelId: string): MaybePromise<PresenceClient[]>;
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
