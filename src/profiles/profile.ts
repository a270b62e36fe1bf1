/**
 * A wire profile: every place where the hub's native protocol and jac-cloud's differ, as one
 * object of encoders and policies chosen once at start (`--protocol`) and handed to the parts that
 * need it. Handlers, the transport and the REST route call it; none of them asks which profile runs.
 *
 * A frame carrying `uid` is answered the same in every profile (native frames), so one client can
 * use the hub's extensions against either.
 */
import type { Authenticator } from '../auth/authenticator.js';
import type { Broker } from '../broker/broker.js';
import type { WireProtocol } from '../config.js';
import type { HubError } from '../errors.js';

/** A REST error as the route returns it (status and JSON body); never a stack. */
export interface RestErrorReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export interface WireProfile {
  readonly name: WireProtocol;
  /** `reports` is the reports array as JSON text (encoded where the walker produced it). */
  walkerOk(walker: string, reports: string, uid: string | undefined): string;
  walkerError(walker: string, err: HubError, uid: string | undefined): string;
  /** A walker frame naming no loaded walker. */
  unknownWalker(walker: string, err: HubError, uid: string | undefined): string;
  /** Errors not tied to a walker run: bad JSON, unknown types, invalid frames, refused peer frames. */
  frameError(err: HubError, uid: string | undefined): string;
  /** A present but bad handshake token: refuse the upgrade (HTTP 401), or connect as public. */
  readonly badHandshakeToken: 'refuse' | 'public';
  /**
   * `change_user`: `token` is what to verify, or null to go public without checking; `reportBad`
   * says whether a token that fails verification gets an error frame before the (public)
   * `connection` frame, or is silently public. `uid` is the frame's (a uid asks for native rules).
   */
  changeUser(sent: string | null | undefined, uid: string | undefined): { token: string | null; reportBad: boolean };
  /** Wraps token verification with the profile's claim rules (still synchronous: see uws.ts). */
  authenticator(inner: Authenticator, now: () => number): Authenticator;
  /** Wraps the broker so user targets are routed under the profile's canonical root ids. */
  broker(inner: Broker): Broker;
  readonly rest: {
    /** REST walkers on every method in their `methods`, and `/walker/:name/:node` (else POST /walker/:name only). */
    readonly allMethods: boolean;
    /** `auth: false` walkers ignore a token that is present (else it is verified and a bad one refused). */
    readonly publicIgnoresToken: boolean;
    error(err: HubError): RestErrorReply;
  };
}
