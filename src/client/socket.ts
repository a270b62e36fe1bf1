/**
 * What the SDK needs of a WebSocket: the browser's global one, or the `ws` package's in Node
 * (passed in, or imported on first use). Both fit this shape; nothing else is required of them.
 */

export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // Handler parameters are `never` so that both the DOM's and ws's event types fit; the SDK reads
  // only `data` of a message event and `code`/`reason` of a close event (see client.ts).
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
}

export type SocketConstructor = new (url: string) => SocketLike;

export const OPEN = 1;

/** The global WebSocket (browsers, Node 22+), else `ws` imported on demand (Node 20). */
export async function resolveSocket(given: SocketConstructor | undefined): Promise<SocketConstructor> {
  if (given) return given;
  const global = (globalThis as { WebSocket?: SocketConstructor }).WebSocket;
  if (global) return global;
  try {
    const mod = (await import('ws')) as { default: SocketConstructor };
    return mod.default;
  } catch (err) {
    throw new Error(`walker-hub/client: no global WebSocket and the "ws" package could not be imported (npm install ws, or pass { WebSocket }): ${(err as Error).message}`);
  }
}

/**
 * The socket URL: http(s) becomes ws(s), a bare origin gets the hub's `/websocket` path, and the
 * token and channel travel in the query (browsers cannot set an Authorization header on a WebSocket).
 */
export function socketUrl(base: string, token: string | null, channelId: string | undefined): string {
  const url = new URL(base);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/websocket';
  if (token !== null) url.searchParams.set('token', token.replace(/^Bearer\s+/i, ''));
  else url.searchParams.delete('token');
  if (channelId !== undefined) url.searchParams.set('channel_id', channelId);
  return url.toString();
}

/** What the SDK reads of ws's non-101 upgrade response (a Node IncomingMessage). */
interface UpgradeResponse {
  readonly statusCode?: number;
  on(event: 'data', fn: (chunk: { toString(): string }) => void): unknown;
  on(event: 'end' | 'error', fn: () => void): unknown;
}

/**
 * Calls `refused(status, body)` when the hub answers the upgrade with an HTTP response instead of
 * switching protocols, then closes the socket (its close event follows). Only the `ws` package
 * exposes that response ('unexpected-response'); browsers and Node's global WebSocket do not, and
 * there a refusal looks like any network failure.
 */
export function onUpgradeRefused(socket: SocketLike, refused: (status: number, body: string) => void): void {
  const on = (socket as { on?: unknown }).on;
  if (typeof on !== 'function') return;
  on.call(socket, 'unexpected-response', (_request: unknown, response: UpgradeResponse) => {
    let body = '';
    response.on('data', (chunk) => (body += chunk.toString()));
    // With a listener, ws leaves the handshake to it: close() aborts it and emits the close event.
    const done = () => {
      refused(response.statusCode ?? 0, body);
      socket.close();
    };
    response.on('end', done);
    response.on('error', done);
  });
}
