/**
 * How many files (sockets included) this process may open and has open, from Linux's /proc.
 * Elsewhere both are unknown (null) and the hub falls back to fixed defaults.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';

/** The soft `Max open files` of this process, or null when unknown or unlimited. */
export function openFileLimit(limitsText: string | null = readProc('/proc/self/limits')): number | null {
  if (limitsText === null) return null;
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(limitsText);
  if (!m || m[1] === 'unlimited') return null;
  return Number(m[1]);
}

/**
 * Descriptors open now. Since Linux 6.2 `stat("/proc/self/fd").size` is that count, computed by the
 * kernel without listing (so it is cheap enough to poll); older kernels report 0 and the directory
 * is listed instead (minus the descriptor the listing itself holds).
 */
export function openFileCount(): number | null {
  try {
    const size = statSync('/proc/self/fd').size;
    if (size > 0) return size;
    return readdirSync('/proc/self/fd').length - 1;
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

/** Descriptors kept free for the store, logs, walker files and plain HTTP requests. */
export const FD_RESERVE = 128;
/** Used when the open-file limit cannot be read (not Linux): a common default soft limit of servers. */
export const FALLBACK_MAX_CONNECTIONS = 10_000;

/**
 * The default WebSocket cap: what the limit leaves after the descriptors already open at start
 * (store, logs, pipes) and FD_RESERVE, so upgrades are refused cleanly before `accept` fails.
 */
export function defaultMaxConnections(limit = openFileLimit(), open = openFileCount()): number {
  if (limit === null) return FALLBACK_MAX_CONNECTIONS;
  return Math.max(1, limit - (open ?? 0) - FD_RESERVE);
}

function readProc(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR';
}
