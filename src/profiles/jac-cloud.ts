/**
 * The jac-cloud profile: what jac-cloud 0.2.3 sends and accepts, so its front ends and REST
 * clients work unchanged. Where jac-cloud would send a traceback, only the message is sent.
 */
import type { Authenticator } from '../auth/authenticator.js';
import type { Identity } from '../auth/identity.js';
import type { Delivery } from '../broker/broker.js';
import { ForwardingBroker } from '../broker/forwarding.js';
import { HubError } from '../errors.js';
import { nativeProfile } from './native.js';
import type { RestErrorReply, WireProfile } from './profile.js';

/** jac-cloud writes a root id as `n:Root:<hex>` or `n::<hex>`; both name the same root. */
const ROOT_ALIAS = /^n:Root:/;
export const canonicalRootId = (id: string): string => (ROOT_ALIAS.test(id) ? `n::${id.slice(7)}` : id);

/** Validation problems as pydantic reports them (`loc`, `msg`, `type`), which jac-cloud clients parse. */
function pydanticErrors(err: HubError): Array<{ loc: string[]; msg: string; type: string }> {
  if (err.issues && err.issues.length > 0) {
    return err.issues.map((i) => ({ loc: i.path === '' ? [] : i.path.split('.'), msg: i.message, type: err.code }));
  }
  return [{ loc: [], msg: err.message, type: err.code }];
}

/**
 * Token claims jac-cloud adds: `expiration` (epoch seconds, checked like `exp`) and root ids in
 * either spelling. Expired tokens are refused; the socket's expiry is the earlier of the two.
 */
function admit(identity: Identity, nowMs: number): Identity {
  const claims = identity.claims;
  if (claims === null) return identity;
  const expiration = claims['expiration'];
  let expiresAt = identity.expiresAt;
  if (expiration !== undefined) {
    if (typeof expiration !== 'number' || !Number.isFinite(expiration)) throw new HubError('invalid_token', 'Token expiration claim must be a number');
    const ms = expiration * 1000;
    if (ms <= nowMs) throw new HubError('invalid_token', 'Token has expired');
    expiresAt = expiresAt === null ? ms : Math.min(expiresAt, ms);
  }
  const rootId = canonicalRootId(identity.root_id);
  if (expiresAt === identity.expiresAt && rootId === identity.root_id) return identity;
  return Object.freeze({ ...identity, root_id: rootId, expiresAt });
}

function restError(err: HubError): RestErrorReply {
  switch (err.code) {
    // FastAPI's HTTPBearer: no credentials is 403; jac-cloud's own check of a bad token is 401.
    case 'unauthorized':
      return { status: 403, body: { detail: 'Not authenticated' } };
    case 'invalid_token':
      return { status: 401, body: { detail: 'Unauthorized' } };
    // FastAPI reports a body that does not parse, or does not validate, as 422 with pydantic errors.
    case 'invalid_input':
    case 'invalid_json':
    case 'unsupported_media_type':
      return { status: 422, body: { detail: pydanticErrors(err) } };
    case 'unknown_walker':
    case 'not_found':
      return { status: 404, body: { detail: 'Not Found' } };
    case 'method_not_allowed':
      return { status: 405, body: { detail: 'Method Not Allowed' } };
    default:
      return { status: err.status, body: { detail: err.message } };
  }
}

export const jacCloudProfile: WireProfile = {
  name: 'jac-cloud',
  walkerOk: (walker, reports, uid) => (uid === undefined ? `{"status":200,"reports":${reports}}` : nativeProfile.walkerOk(walker, reports, uid)),
  // jac-cloud answers a walker event naming no walker as a walker error: {"type":"walker","error":"..."}.
  unknownWalker: (walker, err, uid) => (uid === undefined ? JSON.stringify({ type: 'walker', error: err.message }) : nativeProfile.unknownWalker(walker, err, uid)),
  walkerError: (walker, err, uid) => (uid === undefined ? JSON.stringify({ type: 'walker', error: err.message }) : nativeProfile.walkerError(walker, err, uid)),
  frameError: (err, uid) => (uid === undefined ? JSON.stringify({ error: pydanticErrors(err) }) : nativeProfile.frameError(err, uid)),
  badHandshakeToken: 'public',
  // jac-cloud reads a token only behind an exact `Bearer ` prefix; anything else is the public user.
  changeUser: (sent, uid) =>
    uid !== undefined
      ? nativeProfile.changeUser(sent, uid)
      : { token: typeof sent === 'string' && sent.startsWith('Bearer ') && sent.length > 7 ? sent : null, reportBad: false },
  authenticator: (inner, now) => ({
    verify: (token) => admit(inner.verify(token), now()),
    start: () => inner.start(),
    close: () => inner.close(),
  }),
  broker: (inner) => new JacCloudBroker(inner),
  rest: { allMethods: true, publicIgnoresToken: true, error: restError },
};

/** Publishes to users under their canonical root ids (`n:Root:<hex>` becomes `n::<hex>`); everything else as is. */
class JacCloudBroker extends ForwardingBroker {
  override publish(d: Delivery): void {
    this.inner.publish(d.kind === 'users' && d.ids.some((id) => ROOT_ALIAS.test(id)) ? { ...d, ids: d.ids.map(canonicalRootId) } : d);
  }
}
