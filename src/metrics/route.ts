/** `GET /metrics` as a REST handler (on the hub's port), and on a port of its own (`metricsPort`). */
import { createServer, type Server } from 'node:http';
import { RawBody, type RestResponse } from '../http/request.js';
import type { Logger } from '../log.js';
import type { HubMetrics } from './registry.js';

export function createMetricsRoute(hubMetrics: HubMetrics): () => Promise<RestResponse> {
  return async () => ({ status: 200, body: new RawBody(hubMetrics.contentType, await hubMetrics.render()) });
}

/**
 * A plain node:http server answering `GET /metrics` only (everything else 404), so the scrape
 * port can stay off the public interface. Resolves with the bound port.
 */
export async function serveMetrics(hubMetrics: HubMetrics, host: string, port: number, log: Logger): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    hubMetrics.render().then(
      (text) => res.writeHead(200, { 'Content-Type': hubMetrics.contentType }).end(text),
      (err: unknown) => {
        log.error('metrics scrape failed', { error: String(err) });
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics failed\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
