/**
 * Which walkers folder the command loads. `npx walker-hub` in a fresh project has no `./walkers`;
 * rather than stop on ENOENT, it starts on the examples shipped with the hub and says so, with how to
 * use a folder of one's own. A folder named explicitly (flag or env) that is missing is a mistake to
 * report, not to paper over.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The examples shipped with the hub: `walkers/` at the package root (beside src/ and dist/). */
export const BUNDLED_WALKERS = fileURLToPath(new URL('../../walkers', import.meta.url));

export type WalkersFolder = { readonly dir: string; readonly note?: string } | { readonly error: string };

function isFolder(path: string): boolean {
  // statSync without throwIfNoEntry: a missing path is undefined, any other failure (EACCES) throws
  // and is reported by the loader with its own message when it reads the folder.
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/** `dir` as configured; `explicit` when it came from --walkers or WALKER_HUB_WALKERS rather than the default. */
export function chooseWalkersFolder(dir: string, explicit: boolean): WalkersFolder {
  const folder = resolve(dir);
  if (isFolder(folder)) return { dir };
  if (explicit) return { error: `walkers folder ${folder} (--walkers / WALKER_HUB_WALKERS) does not exist` };
  return {
    dir: BUNDLED_WALKERS,
    note: `no ./${dir} folder here: serving the example walkers bundled with walker-hub (${BUNDLED_WALKERS}); create ./${dir} or pass --walkers <folder> for your own`,
  };
}
