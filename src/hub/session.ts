import type { Identity } from '../auth/identity.js';
import type { HubError } from '../errors.js';
import type { ClockTimer } from '../clock.js';
import type { Logger } from '../log.js';
import type { Connection } from './connection.js';
import type { FrameBudget } from './frame-rate.js';
import type { HeldFrames } from './hold.js';
import type { ReplyQueue } from './reply-queue.js';
import type { WalkerCall } from '../walkers/runner.js';

/** Per-socket state. The transport keeps it in uWS's typed UserData; nothing is added to sockets at runtime. */
export interface Session {
  readonly clientId: string;
  /** The channel from `?channel_id=` (or a random id); reported in `connection` frames. */
  readonly channelId: string;
  /** Whether `channelId` came from `?channel_id=` (a random one is nobody else's: no presence, no join/leave). */
  readonly channelNamed: boolean;
  identity: Identity;
  /** Set on open, cleared on close. */
  conn: Connection | null;
  /** Set at the upgrade while an asynchronous subscribe walker decides on `?channel_id=` (null: allowed, or a refusal). */
  admission: Promise<HubError | null> | null;
  /** Walkers started on this socket that have not finished. */
  inflight: number;
  /** Characters of the frames of those walkers that run asynchronously (their input is held meanwhile). */
  inflightChars: number;
  /** Fires when the token expires, to downgrade the socket to public. */
  expiry: ClockTimer | null;
  /** Created on first use: aborted when the socket closes, so running walkers can stop. */
  gone: AbortController | null;
  /** This connection's logger: its lines carry `client_id`. */
  readonly log: Logger;
  /**
   * Who this socket's walker calls come from (identity, ids, `ctx.self`, abort signal, logger):
   * made on the first walker call and again after the identity changes, shared by every call between.
   */
  caller: WalkerCall | null;
  /** Created on first use: holds replies to walker frames without `uid` until earlier ones are sent. */
  replies: ReplyQueue | null;
  /** Frames this socket may still send (null when the frame rate is not limited). */
  readonly frames: FrameBudget | null;
  /** Set while a reply waits for the broker to confirm a subscription: later frames wait here (see hold.ts). */
  held: HeldFrames | null;
}
