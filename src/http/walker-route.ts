/**
 * REST walker calls, through the same runner as WebSocket frames. Native: `POST /walker/:name`.
 * The jac-cloud profile serves `/walker/:name` and `/walker/:name/:node` on every method in the
 * walker's `methods` (GET takes its input from the query string), with jac-cloud's error bodies.
 */
import type { Authenticator } from '../auth/authenticator.js';
import { bearerToken, publicIdentity, type Identity } from '../auth/identity.js';
import { HubError } from '../errors.js';
import { whenReady, type MaybePromise } from '../maybe.js';
import { nativeProfile } from '../profiles/native.js';
import type { WireProfile } from '../profiles/profile.js';
import type { WalkerMethod } from '../walkers/define.js';
import type { WalkerRunner } from '../walkers/runner.js';
import { EncodedBody, parseJsonBody, type RestRequest, type RestResponse } from './request.js';

/** uWS's lower-case method names to `methods` entries (uWS says `del` only when registering). */
const methodOf: Readonly<Record<string, WalkerMethod>> = { get: 'get', post: 'post', put: 'put', patch: 'patch', delete: 'delete' };

export function createWalkerRoute(runner: WalkerRunner, authenticator: Authenticator, profile: WireProfile = nativeProfile) {
  const fail = (err: HubError): RestResponse => profile.rest.error(err);
  return (req: RestRequest): MaybePromise<RestResponse> => {
    const walker = runner.get(req.name);
    if (!walker) return fail(new HubError('unknown_walker', `Unknown walker "${req.name.slice(0, 128)}"`));
    const via = methodOf[req.method ?? 'post'];
    if (via === undefined || !walker.methods.has(via)) return fail(new HubError('method_not_allowed', `Walker ${walker.name} is not open to ${(req.method ?? 'post').toUpperCase()}`));
    let identity: Identity = publicIdentity;
    const token = bearerToken(req.authorization);
    if (token !== null && (walker.auth || !profile.rest.publicIgnoresToken)) {
      try {
        identity = authenticator.verify(token);
      } catch (err) {
        return fail(err instanceof HubError ? err : new HubError('invalid_token'));
      }
    }
    let input: unknown;
    if (via === 'get') {
      input = Object.fromEntries(new URLSearchParams(req.query));
    } else {
      const body = parseJsonBody(req);
      if (!body.ok) return fail(body.error);
      input = body.value;
    }
    const outcome = runner.run(walker, { via, identity, clientId: null, channelId: null, node: req.node ?? null, log: req.log }, input);
    return whenReady(outcome, (done): RestResponse => (done.ok ? { status: 200, body: new EncodedBody(`{"status":200,"reports":${done.reports}}`) } : fail(done.error)));
  };
}
