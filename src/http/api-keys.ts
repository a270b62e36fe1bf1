/**
 * Server API keys (`WALKER_HUB_API_KEY`, comma-separated so a key can be rotated: add the new one,
 * move backends over, drop the old one). A presented key is compared with every configured key in
 * constant time: each side is reduced to its SHA-256 digest first, so `timingSafeEqual` always
 * compares 32 bytes, whatever the lengths, and every configured key is checked (no early exit).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { bearerToken } from '../auth/identity.js';
import { HubError } from '../errors.js';
import { errorResponse, type RestRequest, type RestResponse } from './request.js';

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

export interface ApiKeys {
  /** False when no key is configured (the push API is off). */
  readonly enabled: boolean;
  /** Whether the request carries one of the keys (`Authorization: Bearer <key>` or `X-API-Key`). */
  accepts(req: RestRequest): boolean;
}

export function createApiKeys(keys: readonly string[]): ApiKeys {
  const digests = keys.map(digest);
  return {
    enabled: digests.length > 0,
    accepts(req) {
      const presented = req.apiKey || bearerToken(req.authorization);
      if (!presented) return false;
      const candidate = digest(presented);
      let match = false;
      for (const known of digests) match = timingSafeEqual(candidate, known) || match;
      return match;
    },
  };
}

/** The server API's shared gate: 404 when no key is configured (the API is off), 401 without a key; null when admitted. */
export function refuseApiRequest(keys: ApiKeys, req: RestRequest): RestResponse | null {
  if (!keys.enabled) return errorResponse(new HubError('not_found', 'The server API is off: no WALKER_HUB_API_KEY is configured'));
  if (!keys.accepts(req)) return errorResponse(new HubError('invalid_api_key'));
  return null;
}
