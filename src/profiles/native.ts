/** The native profile: typed frames (`type`, `walker`, `uid`, `{code,message}` errors), strict auth. */
import { encode } from '../protocol.js';
import type { WireProfile } from './profile.js';

export const nativeProfile: WireProfile = {
  name: 'native',
  walkerOk: (walker, reports, uid) => encode.walkerOk(walker, reports, uid),
  walkerError: (walker, err, uid) => encode.walkerError(walker, err.status, err.toBody(), uid),
  unknownWalker: (_walker, err, uid) => encode.error(err.toBody(), uid),
  frameError: (err, uid) => encode.error(err.toBody(), uid),
  badHandshakeToken: 'refuse',
  // The `Bearer ` prefix is optional; a blank token means the public user.
  changeUser: (sent) => ({ token: sent == null || sent.trim() === '' ? null : sent, reportBad: true }),
  authenticator: (inner) => inner,
  broker: (inner) => inner,
  rest: {
    allMethods: false,
    publicIgnoresToken: false,
    error: (err) => ({ status: err.status, body: { status: err.status, error: err.toBody() } }),
  },
};
