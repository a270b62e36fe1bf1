/**
 * Who may open a WebSocket: the Origin allow-list and the connection caps (global and per IP).
 * Checked synchronously in uWS's upgrade callback; counts move on open and close.
 */
import { HubError } from '../errors.js';

export interface AdmissionOptions {
  /** WebSockets at once; 0 = no cap. */
  readonly maxConnections: number;
  /** WebSockets at once from one IP; 0 = no cap. */
  readonly maxConnectionsPerIp: number;
  /** Allowed `Origin` values; empty = any. */
  readonly allowedOrigins: readonly string[];
}

export class Admission {
  private total = 0;
  private readonly perIp = new Map<string, number>();
  private readonly origins: ReadonlySet<string>;

  constructor(readonly options: AdmissionOptions) {
    this.origins = new Set(options.allowedOrigins);
  }

  /**
   * Why this upgrade is refused, or null. `origin` is '' when the header is absent: a non-browser
   * client, which cannot be stopped by Origin anyway (any client can send any Origin), is let in.
   */
  refuse(ip: string, origin: string): HubError | null {
    if (origin !== '' && this.origins.size > 0 && !this.origins.has(origin)) return new HubError('origin_not_allowed');
    const { maxConnections, maxConnectionsPerIp } = this.options;
    if (maxConnections > 0 && this.total >= maxConnections) return new HubError('server_full', `The hub is at its limit of ${maxConnections} connections; try again later`);
    if (maxConnectionsPerIp > 0 && (this.perIp.get(ip) ?? 0) >= maxConnectionsPerIp) {
      return new HubError('too_many_connections', `At most ${maxConnectionsPerIp} connections per address`);
    }
    return null;
  }

  opened(ip: string): void {
    this.total++;
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
  }

  closed(ip: string): void {
    this.total--;
    const left = (this.perIp.get(ip) ?? 1) - 1;
    // Empty entries are deleted so the map holds only addresses with open sockets.
    if (left <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, left);
  }

  get connections(): number {
    return this.total;
  }

  /** Addresses with at least one open connection (what the per-IP map holds). */
  get addresses(): number {
    return this.perIp.size;
  }
}
