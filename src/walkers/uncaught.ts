/**
 * Which uncaught exceptions a walker caused. An exception thrown from a walker's own timer or
 * event callback (`setTimeout(() => { throw … })`) reaches no runner: Node would end the process,
 * and every user with it. The `walker-hub` command keeps serving when the exception is the
 * walker's, by this rule:
 *
 * - an `Error` whose stack, captured where it was created, passes through a file of the walkers
 *   folder: walker code was running when it was made (a walker's throw, or hub code the walker
 *   called, as on the synchronous path, where the runner catches the same errors);
 * - anything that is not an `Error` (a string, `null`, a Proxy whose traps throw): the hub's own
 *   code and its libraries throw `Error`s only.
 *
 * Anything else (an `Error` made without a walker frame on its stack: the hub's own or a
 * library's fault) stays fatal: the hub's state may be half-updated, so the process exits as Node
 * would. Reading what was thrown is guarded: a hostile value counts as the walker's.
 */
import { resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

export function walkerCaused(walkersDir: string): (thrown: unknown) => boolean {
  const dir = resolve(walkersDir);
  // Frames name files as paths (tsx's source maps, CommonJS) or as file: URLs (ESM).
  const prefixes = [dir + sep, pathToFileURL(dir).href + '/'];
  return (thrown) => {
    try {
      if (!(thrown instanceof Error)) return true;
      const stack = thrown.stack;
      if (typeof stack !== 'string') return true;
      return prefixes.some((prefix) => stack.includes(prefix));
    } catch {
      return true;
    }
  };
}
