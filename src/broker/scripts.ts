/**
 * Lua scripts run on the broker's Redis (history appends and reads, see history/redis-scripts.ts):
 * sent as EVALSHA, and as EVAL once when the server does not know the script yet (after a restart
 * or a failover), so the script's text crosses the wire only then.
 */
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

export interface LuaScript {
  readonly lua: string;
  readonly sha: string;
}

export function luaScript(lua: string): LuaScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

export type ScriptArg = string | number;

/** Runs `script` with `keys` (every key in one hash slot on a cluster) and `args`. */
export function runScript(client: Redis | Cluster, script: LuaScript, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
  return client.evalsha(script.sha, keys.length, ...keys, ...args).catch((err: unknown) => {
    if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return client.eval(script.lua, keys.length, ...keys, ...args);
    throw err;
  });
}
