/**
 * Where Redis is: one server or a cluster, read from the config. Kept apart from the client code
 * (redis-clients.ts), which imports ioredis: deciding whether Redis is configured must not load
 * it (a hub without Redis never imports ioredis; see node.ts).
 */
import type { Config } from '../config.js';

export interface ClusterNode {
  readonly host: string;
  readonly port: number;
}

export type RedisTarget = { readonly url: string } | { readonly clusterNodes: readonly ClusterNode[] };

/** `host:port,host:port` (IPv6 hosts in brackets: `[::1]:7000`). Throws on a malformed entry. */
export function parseClusterNodes(list: string): ClusterNode[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((entry) => {
      const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(entry);
      const port = m ? Number(m[2]) : NaN;
      if (!m || port < 1 || port > 65535) throw new Error(`"${entry}" is not host:port`);
      return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
    });
}

/** The configured Redis (a cluster wins; the config refuses both), or null without one. */
export function redisTargetOf(config: Pick<Config, 'redisUrl' | 'redisClusterNodes'>): RedisTarget | null {
  if (config.redisClusterNodes !== undefined) return { clusterNodes: parseClusterNodes(config.redisClusterNodes) };
  if (config.redisUrl !== undefined) return { url: config.redisUrl };
  return null;
}
