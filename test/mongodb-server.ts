/**
 * A MongoDB of a test's own, started by ../shared/services/mongodb-up, for tests that must freeze
 * it (SIGSTOP) without disturbing the shared server other test files use. `MONGODB_UP` is undefined
 * when the script is missing (skip loudly). The script runs the engine in-process behind its wire
 * bridge, as one process whose pid it writes to DIR/server.pid: stopping that pid freezes MongoDB.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const script = resolve(import.meta.dirname, '../../shared/services/mongodb-up');
export const MONGODB_UP = existsSync(script) ? script : undefined;

export interface OwnMongo {
  /** `mongodb://127.0.0.1:PORT` */
  readonly url: string;
  /** SIGSTOP: the server keeps its sockets open but answers nothing. */
  freeze(): void;
  /** SIGCONT. */
  thaw(): void;
  /** Thaws, SIGKILLs (a throwaway database) and removes its folder. */
  stop(): Promise<void>;
}

/** Starts MongoDB on 127.0.0.1:port; the script takes about 5 s (longer the first time: it fetches the engine). */
export async function startOwnMongo(port: number): Promise<OwnMongo> {
  if (MONGODB_UP === undefined) throw new Error('mongodb-up is missing');
  const dir = mkdtempSync(join(tmpdir(), 'walker-hub-mongo-'));
  let pid: number | null = null;
  const signal = (name: NodeJS.Signals) => {
    if (pid !== null) process.kill(pid, name);
  };
  try {
    const { stdout } = await promisify(execFile)(MONGODB_UP, [dir, String(port)]);
    pid = Number((await readFile(join(dir, 'server.pid'), 'utf8')).trim());
    const url = /^MONGODB_URL=(\S+)$/m.exec(stdout)?.[1];
    if (url === undefined || !Number.isInteger(pid)) throw new Error(`mongodb-up printed no URL: ${stdout}`);
    return {
      url,
      freeze: () => signal('SIGSTOP'),
      thaw: () => signal('SIGCONT'),
      stop: async () => {
        try {
          signal('SIGCONT');
          signal('SIGKILL');
        } catch (err) {
          // Already gone (ESRCH) is what stop wants; anything else is reported.
          if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
        }
        pid = null;
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    signal('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
