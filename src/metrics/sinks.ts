/**
 * What the hub's parts report to metrics: one narrow interface, so the hub, the runner and the
 * transport never import prom-client, and tests (or embedders) pass `noMetrics`. Every call is
 * made once per frame, delivery, call or response (never once per socket of a fanout), and the
 * implementation (registry.ts) only adds to a number there; prom-client reads them at scrape.
 */
import type { TargetKind } from '../broker/broker.js';
import type { WalkerMethod } from '../walkers/define.js';

/** Which budget refused: the per-connection frame budget, login/register budgets, connection caps. */
export type RateLimit = 'frame' | 'auth' | 'connections';

export interface Metrics {
  /** A WebSocket opened. */
  connected(): void;
  /** A WebSocket closed, with the close code uWS reported. */
  disconnected(code: number): void;
  /** A parsed frame of a known `type` (`invalid` for a frame that failed to parse or has an unknown type). */
  frameIn(type: string): void;
  /** An error sent over a WebSocket (an `error` frame, or a `walker` frame with an error), by code. */
  errorFrame(code: string): void;
  /** One local delivery and how many connections it reached. */
  delivered(kind: TargetKind, connections: number): void;
  /**
   * What records finished calls of one walker by one method (its HTTP-style status, 200 or the
   * error's, and its duration), with the label sets found once: the runner keeps one per walker and
   * method, so a call's metrics are two adds and a bucket scan, not five map lookups.
   */
  walkerMeter(walker: string, via: WalkerMethod): WalkerMeter;
  /** An HTTP response, by route pattern (`/walker/:name`, not the name) and status. */
  httpResponse(route: string, status: number): void;
  rateLimited(limit: RateLimit): void;
  brokerPublished(kind: TargetKind): void;
  brokerReceived(kind: TargetKind): void;
  /** A store operation (`kvGet`, `findUserByEmail`, ...) that missed the store deadline. */
  storeTimedOut(op: string): void;
  /** A channel publication that history kept in Redis could not take (lost for every node, the caller told). */
  historyFailed(): void;
}

/** Records one finished call of a given walker and method: status, then duration in seconds. */
export type WalkerMeter = (status: number, seconds: number) => void;

const nothing = (): void => undefined;

export const noMetrics: Metrics = {
  connected: nothing,
  disconnected: nothing,
  frameIn: nothing,
  errorFrame: nothing,
  delivered: nothing,
  walkerMeter: () => nothing,
  httpResponse: nothing,
  rateLimited: nothing,
  brokerPublished: nothing,
  brokerReceived: nothing,
  storeTimedOut: nothing,
  historyFailed: nothing,
};
