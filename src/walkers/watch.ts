/**
 * `--watch`: keeps the served walkers in step with the walkers folder without a restart. Sockets
 * stay open; the registry (registry.ts) swaps in a whole new map after each change, so calls
 * already running finish on the version they looked up.
 *
 * - File events are debounced (`debounceMs` of quiet; fs.watch fires several events per save) and
 *   then the folder is re-read. A walker file whose content (SHA-1) is unchanged is not touched,
 *   so an editor's extra events cost one read each, not an import.
 * - A changed or new file is imported under a fresh URL (`?walker-hub-v=N`): Node caches ES
 *   modules by URL for the life of the process and cannot unload one, so every version imported
 *   stays in memory until the hub restarts (its code and whatever its top level keeps). That is
 *   the cost of reloading: bounded by the number of saves, not by traffic (measured: about 11 KB
 *   of heap and 75 KB of RSS per reload of a 1.7 KB TypeScript walker). A restart frees it; every
 *   RELOADS_WARNING imports the log says so.
 * - A helper module of the folder (`_shared.ts`: skipped by the loader) that changes makes every
 *   walker reload under a new tree generation (`walker-hub-tree=G`), which the resolve hook passes
 *   on to the relative imports of those walkers (resolve-hook.ts), so the new helper is what they
 *   import. Walkers loaded in the same generation share one copy of each helper.
 * - CommonJS walkers (and helpers) are cached by require under their path, whatever the URL
 *   query: their cache entries are dropped before they are loaded again.
 * - A file that fails (syntax error, a throw at its top level, a bad default export, a name
 *   another file already serves) is logged with why, and the version served before, if any,
 *   keeps running. Its content is remembered, so it is retried when it changes again.
 * - A deleted file's walker is removed: its route answers `unknown_walker` (404) from then on.
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { Logger } from '../log.js';
import { importWalker, isModuleFile, isWalkerFile, type LoadedWalker } from './loader.js';
import type { WalkerRegistry } from './registry.js';

export interface WalkerWatcher {
  /** Stops watching (a rescan under way finishes, but swaps nothing in). */
  close(): void;
}

export interface WatchOptions {
  /** Quiet time after the last file event before the folder is re-read, ms. */
  readonly debounceMs?: number;
}

/** Default quiet time, ms: long enough to gather one save's events, short enough to feel instant. */
export const WATCH_DEBOUNCE_MS = 100;

/** Every this many modules imported by reloads, a line in the log recalls that they stay in memory. */
export const RELOADS_WARNING = 500;

/** One walker file as last seen: the content that is served, and the content that last failed. */
interface FileState {
  /** SHA-1 of the content `walker` came from (absent when no version ever loaded). */
  readonly served?: string;
  readonly walker?: LoadedWalker;
  /** SHA-1 of content that failed to load, so the same bytes are not imported again. */
  readonly failed?: string;
}

const sha1 = (text: Buffer) => createHash('sha1').update(text).digest('hex');

/** require's module cache: where CommonJS walkers and their helpers are kept, by path. */
const requireCache = createRequire(import.meta.url).cache;

/**
 * Starts watching and resolves once the folder's current content is recorded, so that any change
 * after that is seen. Call it right after loading: an edit between the load and this call is
 * only picked up by the next edit.
 */
export async function watchWalkers(dir: string, registry: WalkerRegistry, log: Logger, options: WatchOptions = {}): Promise<WalkerWatcher> {
  const folder = resolve(dir);
  const debounceMs = options.debounceMs ?? WATCH_DEBOUNCE_MS;
  let files: Map<string, FileState> | null = null;
  let helpers = new Map<string, string>();
  let generation = 0;
  let version = 0;
  let imported = 0;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let scanning = false;
  let again = false;

  /** Base name -> SHA-1 of every module file in the folder, walkers and helpers apart. */
  const read = async (): Promise<{ walkers: Map<string, string>; helpers: Map<string, string> }> => {
    const entries = (await readdir(folder, { withFileTypes: true })).filter((e) => e.isFile() && isModuleFile(e.name)).map((e) => e.name).sort();
    const walkers = new Map<string, string>();
    const others = new Map<string, string>();
    for (const name of entries) {
      let content: Buffer;
      try {
        content = await readFile(join(folder, name));
      } catch {
        continue; // deleted between readdir and here: the next event rescans
      }
      (isWalkerFile(name) ? walkers : others).set(name, sha1(content));
    }
    return { walkers, helpers: others };
  };

  /** The state at start: what the loader loaded is what is on disk now. */
  const baseline = async (): Promise<Map<string, FileState>> => {
    const seen = await read();
    helpers = seen.helpers;
    const byFile = new Map([...registry.current.values()].map((w) => [w.file, w]));
    const states = new Map<string, FileState>();
    for (const [name, hash] of seen.walkers) {
      const walker = byFile.get(join(folder, name));
      states.set(name, walker ? { served: hash, walker } : { failed: hash });
    }
    return states;
  };

  const rescan = async (): Promise<void> => {
    const before = (files ??= await baseline());
    const seen = await read();
    const helpersChanged = !sameEntries(helpers, seen.helpers);
    if (helpersChanged) {
      generation++;
      helpers = seen.helpers;
      for (const path of Object.keys(requireCache)) if (path.startsWith(folder + sep)) delete requireCache[path];
    }
    version++;
    const next = new Map<string, FileState>();
    const reloaded = new Set<string>();
    for (const [name, hash] of seen.walkers) {
      const prev = before.get(name) ?? {};
      if (!helpersChanged && (prev.served === hash || prev.failed === hash)) {
        next.set(name, prev);
        continue;
      }
      const file = join(folder, name);
      delete requireCache[file];
      const query = `${generation > 0 ? `walker-hub-tree=${generation}&` : ''}walker-hub-v=${version}`;
      const { walker, problems } = await importWalker(file, `${pathToFileURL(file).href}?${query}`);
      if (closed) return;
      if (++imported % RELOADS_WARNING === 0) {
        log.warn('walkers reloaded many times: every version imported stays in memory until the hub restarts', { versions_imported: imported, rss_mb: Math.round(process.memoryUsage().rss / 1048576) });
      }
      if (walker) {
        next.set(name, { served: hash, walker });
        reloaded.add(name);
      } else {
        failedToLoad(name, prev, problems);
        next.set(name, { ...prev, failed: hash });
      }
    }
    // Names: files that did not change keep theirs; a changed file may not take one they serve.
    const served = new Map<string, LoadedWalker>();
    const order = [...next.keys()].sort((a, b) => Number(reloaded.has(a)) - Number(reloaded.has(b)) || a.localeCompare(b));
    for (const name of order) {
      const state = next.get(name) as FileState;
      const walker = state.walker;
      if (walker === undefined) continue;
      const holder = served.get(walker.name);
      if (holder === undefined) {
        served.set(walker.name, walker);
        continue;
      }
      const prev = before.get(name) ?? {};
      failedToLoad(name, prev, [`${name}: duplicate walker name "${walker.name}" (also defined in ${basename(holder.file)})`]);
      next.set(name, { ...prev, failed: state.served as string });
      if (prev.walker !== undefined && !served.has(prev.walker.name)) served.set(prev.walker.name, prev.walker);
    }
    files = next;
    const current = registry.current;
    let changed = false;
    for (const [walkerName, walker] of served) {
      const old = current.get(walkerName);
      if (old === walker) continue;
      changed = true;
      log.info(old === undefined ? 'walker added' : 'walker reloaded', { walker: walkerName, file: basename(walker.file) });
    }
    for (const [walkerName, old] of current) {
      if (served.has(walkerName)) continue;
      changed = true;
      log.info('walker removed', { walker: walkerName, file: basename(old.file) });
    }
    if (changed) registry.replace(served);
  };

  const failedToLoad = (name: string, prev: FileState, problems: string[]) => {
    const keeping = prev.walker === undefined ? 'not loaded' : `still serving the previous version of ${prev.walker.name}`;
    log.error(`walker file failed to load; ${keeping}`, { file: name, problems });
  };

  const run = () => {
    timer = undefined;
    if (closed) return;
    if (scanning) {
      again = true;
      return;
    }
    scanning = true;
    rescan()
      .catch((err: unknown) => log.error('cannot re-read the walkers folder; serving the walkers loaded before', { folder, error: err instanceof Error ? err.message : String(err) }))
      .finally(() => {
        scanning = false;
        if (again) {
          again = false;
          schedule();
        }
      });
  };

  const schedule = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(run, debounceMs);
  };

  let watcher: FSWatcher;
  try {
    watcher = watch(folder, { persistent: false }, schedule);
  } catch (err) {
    log.warn('cannot watch the walkers folder; walkers reload only on restart', { folder, error: err instanceof Error ? err.message : String(err) });
    return { close() {} };
  }
  watcher.on('error', (err) => log.warn('watching the walkers folder failed; walkers reload only on restart', { folder, error: err.message }));
  // Events that come while the baseline is read wait for it (`again`), then rescan against it.
  scanning = true;
  try {
    files = await baseline();
  } catch (err) {
    log.warn('cannot read the walkers folder to watch it', { folder, error: err instanceof Error ? err.message : String(err) });
  } finally {
    scanning = false;
    if (again) {
      again = false;
      schedule();
    }
  }
  log.info('watching the walkers folder: changes take effect without a restart', { folder });
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      watcher.close();
    },
  };
}

function sameEntries(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
