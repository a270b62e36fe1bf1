/**
 * One hub per data folder. LMDB itself lets several processes share the store file, so two hubs
 * started on the same `--data-dir` would both run without a word, each with its own sockets,
 * revocation timers and sweeps, which is never what was meant. The hub takes `walker-hub.lock` in
 * the folder at start and refuses to start when another live hub holds it.
 *
 * The lock file holds JSON `{ pid, hostname, started_at }` and is created atomically (written
 * beside, then hard-linked into place, which fails when it exists), so a second hub never reads
 * half a file. A lock whose hub is gone (killed, crashed: nothing removed the file) is taken over:
 * on the same host, its pid no longer runs (or runs something that is not Node: a pid reused); a
 * lock naming this very pid that this process does not hold was left by an earlier run in a
 * container that reuses pids. A lock from another host cannot be checked and is refused: the
 * message names the file to delete once that hub is known to be gone.
 */
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

export const LOCK_FILE = 'walker-hub.lock';

export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: LockHolder,
  ) {
    const where = holder.hostname === hostname() ? `pid ${holder.pid}` : `pid ${holder.pid} on host ${holder.hostname}`;
    super(
      `data folder ${dir} is in use by another walker hub (${where}, since ${holder.started_at}); ` +
        `stop that hub or give this one its own --data-dir` +
        (holder.hostname === hostname() ? '' : ` (if that hub is gone, delete ${join(dir, LOCK_FILE)})`),
    );
    this.name = 'DataDirLockedError';
  }
}

export interface LockHolder {
  readonly pid: number;
  readonly hostname: string;
  readonly started_at: string;
}

export interface DataDirLock {
  /** Removes the lock file if it is still this process's. Idempotent. */
  release(): void;
}

/** Lock files this process holds (two hubs in one process are refused as two processes are). */
const held = new Set<string>();

/** Takes the folder's lock (creating the folder), or throws DataDirLockedError naming the hub that holds it. */
export function lockDataDir(dataDir: string): DataDirLock {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const mine: LockHolder = { pid: process.pid, hostname: hostname(), started_at: new Date().toISOString() };
  // A round that found a stale lock moves it aside and tries again; losing every round means live hubs won.
  for (let round = 0; round < 3; round++) {
    if (held.has(path)) throw new DataDirLockedError(dir, readHolder(path) ?? mine);
    if (create(path, mine)) {
      held.add(path);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          held.delete(path);
          // Only our own file: a hub that took over a lock we lost must keep its lock.
          if (readHolder(path)?.pid === mine.pid && readHolder(path)?.started_at === mine.started_at) unlinkQuietly(path);
        },
      };
    }
    const holder = readHolder(path);
    if (holder === null) continue; // removed meanwhile: try again
    if (!isStale(holder)) throw new DataDirLockedError(dir, holder);
    takeOver(path, holder);
  }
  throw new DataDirLockedError(dir, readHolder(path) ?? mine);
}

/** Creates the lock file with `holder` in it; false when one exists. */
function create(path: string, holder: LockHolder): boolean {
  const draft = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(draft, JSON.stringify(holder) + '\n');
  try {
    linkSync(draft, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkQuietly(draft);
  }
}

/** What the lock file says, or null when it is gone. Unreadable content counts as a lock of a hub long gone. */
function readHolder(path: string): LockHolder | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockHolder>;
    if (Number.isInteger(parsed.pid) && typeof parsed.hostname === 'string') return { pid: parsed.pid as number, hostname: parsed.hostname, started_at: String(parsed.started_at) };
  } catch {
    // fall through: not a lock this code wrote
  }
  return { pid: 0, hostname: hostname(), started_at: 'unknown' };
}

function isStale(holder: LockHolder): boolean {
  if (holder.hostname !== hostname()) return false;
  if (holder.pid <= 0) return true;
  // Our own pid, in a lock we do not hold: an earlier run in a pid namespace that reuses pids.
  if (holder.pid === process.pid) return true;
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  return !runsNode(holder.pid);
}

/** Whether `pid` runs Node (Linux's /proc); true where that cannot be read, so a live hub is never taken over. */
function runsNode(pid: number): boolean {
  try {
    return /node/i.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true;
  }
}

/**
 * Moves the stale lock aside, atomically, so that of two hubs taking it over at once only one
 * moves it; the other finds it gone (or the winner's fresh lock) on its next round. Should what
 * was moved turn out to be a fresh lock (the winner's, between our read and our rename), it is put back.
 */
function takeOver(path: string, stale: LockHolder): void {
  const aside = `${path}.stale.${process.pid}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = readHolder(aside);
  if (moved !== null && (moved.pid !== stale.pid || moved.started_at !== stale.started_at)) {
    try {
      linkSync(aside, path);
    } catch (err) {
      // EEXIST: another hub's lock is in place already, which is as good.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  unlinkQuietly(aside);
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
