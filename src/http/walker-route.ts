/** `POST /walker/:name`: one walker call over REST, through the same runner as WebSocket frames. */
import type { Authenticator } from '../auth/authenticator.js';
import { bearerToken, publicIdentity, type Identity } from '../auth/identity.js';
import { HubError } from '../errors.js';
import { whenReady, type MaybePromise } from '../maybe.js';
import type { WalkerRunner } from '../walkers/runner.js';
import { EncodedBody, errorResponse, parseJsonBody, type RestRequest, type RestResponse } from './request.js';

export function createWalkerRoute(runner: WalkerRunner, authenticator: Authenticator) {
  return (req: RestRequest): MaybePromise<RestResponse> => {
    const walker = runner.get(req.name);
    if (!walker) return errorResponse(new HubError('unknown_walker', `Unknown walker "${req.name.slice(0, 128)}"`));
    if (!walker.methods.has('post')) return errorResponse(new HubError('method_not_allowed', `Walker ${walker.name} is not open to POST`));
    let identity: Identity = publicIdentity;
    const token = bearerToken(req.authorization);
    if (token !== null) {
      try {
        identity = authenticator.verify(token);
      } catch (err) {
        return errorResponse(err instanceof HubError ? err : new HubError('invalid_token'));
      }
    }
    const body = parseJsonBody(req);
    if (!body.ok) return errorResponse(body.error);
    const outcome = runner.run(walker, { via: 'post', input: body.value, identity, clientId: null, channelId: null, node: null, log: req.log });
    return whenReady(outcome, (done): RestResponse => (done.ok ? { status: 200, body: new EncodedBody(`{"status":200,"reports":${done.reports}}`) } : errorResponse(done.error)));
  };
}
