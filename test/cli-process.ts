/**
 * Tests that run the real `walker-hub` command as a child process: where it is, the port it
 * announces (`WALKER_HUB_ANNOUNCE=1`), and killing whatever is still running after each test.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export const HUB_BIN = resolve(import.meta.dirname, '../bin/walker-hub.js');

const children = new Set<ChildProcess>();

/** Remembers `child` for killChildren(); returns it. */
export function trackChild<C extends ChildProcess>(child: C): C {
  children.add(child);
  return child;
}

/** SIGKILLs every tracked child still running and waits for each to exit (an afterEach hook). */
export async function killChildren(): Promise<void> {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  children.clear();
}

/** Resolves with the port the hub announces on its stdout; rejects (with `context()` appended) if it exits first. */
export async function announcedPort(child: { readonly stdout: Readable }, context: () => string = () => ''): Promise<number> {
  for await (const line of createInterface({ input: child.stdout })) {
    const parsed = JSON.parse(line) as { port?: number };
    if (typeof parsed.port === 'number') return parsed.port;
  }
  const extra = context();
  throw new Error(`hub exited without announcing its port${extra === '' ? '' : `: ${extra}`}`);
}
