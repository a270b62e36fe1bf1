/** Reading the hub's replies: connection ids, channel lists, and error replies as HubClientErrors. */
import { errorCatalogue } from '../errors.js';
import type { ConnectionInfo, WireError } from '../protocol.js';
import { HubClientError } from './errors.js';
import type { Frame } from './types.js';

export function connectionInfo(frame: Frame): ConnectionInfo | null {
  const data = frame['data'] as Partial<ConnectionInfo> | undefined;
  if (!data || typeof data.client_id !== 'string' || typeof data.root_id !== 'string' || typeof data.channel_id !== 'string') return null;
  return { client_id: data.client_id, root_id: data.root_id, channel_id: data.channel_id };
}

export function channelsOf(frame: Frame): string[] {
  const ids = frame['channel_ids'];
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
}

/** An error reply as a HubClientError; `error` frames carry no status, so it comes from the catalogue. */
export function errorOf(frame: Frame): HubClientError {
  const error = (frame['error'] as WireError | undefined) ?? { code: 'internal', message: 'malformed reply' };
  const status = typeof frame['status'] === 'number' ? frame['status'] : (errorCatalogue as Record<string, { status: number } | undefined>)[error.code]?.status ?? 0;
  return new HubClientError(status, error);
}
