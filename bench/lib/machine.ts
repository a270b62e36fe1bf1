/** The machine and software a run used, for the JSON record and the table header. */
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem, type as osType } from 'node:os';
import { resolve } from 'node:path';
import { repoRoot } from './children.js';

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly node: string;
  readonly os: string;
  readonly somaxconn: number | null;
  /** Soft limit on open files of this process (its children inherit it). */
  readonly openFilesLimit: number | null;
}

function readNumber(path: string): number | null {
  try {
    return Number(readFileSync(path, 'utf8').trim());
  } catch {
    return null; // not Linux, or not readable: leave it out of the record
  }
}

function openFilesLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null; // not Linux
  }
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model ?? 'unknown',
    cores: list.length,
    memoryBytes: totalmem(),
    node: process.version,
    os: `${osType()} ${release()}`,
    somaxconn: readNumber('/proc/sys/net/core/somaxconn'),
    openFilesLimit: openFilesLimit(),
  };
}

const PACKAGES = ['uWebSockets.js', 'ws', 'socket.io', 'autocannon', 'zod', 'tsx', 'typescript'] as const;

/** Installed versions (from node_modules), plus the hub's own. */
export function packageVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  const read = (dir: string) => JSON.parse(readFileSync(resolve(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
  const own = read(repoRoot);
  out[own.name ?? 'walker-hub'] = own.version ?? '?';
  for (const name of PACKAGES) {
    try {
      const pkg = read(resolve(repoRoot, 'node_modules', name));
      out[name] = pkg.name && pkg.name !== name ? `${pkg.name}@${pkg.version ?? '?'}` : (pkg.version ?? '?');
    } catch (err) {
      out[name] = `not installed (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
    }
  }
  return out;
}
