/**
 * A `node:module` resolve hook the CLI registers (bin/walker-hub.js, after tsx's own hooks), so
 * walker modules load wherever they live:
 *
 * - `import { defineWalker, z } from 'walker-hub'` works from any folder: a folder outside this
 *   package, or one with its own package.json, has no `node_modules/walker-hub` to find. The
 *   specifier resolves to this hub's own index (src/index.ts, or dist/index.js once built), the same
 *   URL the hub's modules reach it by, so walkers share the hub's module instances: one
 *   `defineWalker`, one zod (zod's `instanceof` checks depend on it). Only the bare `walker-hub` is
 *   mapped, as package.json exports only "."; anything else goes on to the next resolver.
 * - `.js`/`.ts` files outside node_modules that Node would run as CommonJS (no package.json above
 *   them, or `npm init`'s `"type": "commonjs"`) run as ES modules when they are written as ES
 *   modules (see moduleFormat). Without this the "no build step" flow fails on the first `import`.
 * - A walker reloaded by `--watch` after one of its folder's helper modules changed is imported
 *   with `walker-hub-tree=G` in its URL's query (walkers/watch.ts); its relative imports of files
 *   outside node_modules get the same query, so they load afresh instead of from Node's cache.
 *
 * Runs in Node's hooks thread, so it imports nothing from the hub.
 */
import { readFileSync } from 'node:fs';
import type { ResolveHook } from 'node:module';
import { fileURLToPath } from 'node:url';

// Beside this file: src/index.ts in a checkout (run through tsx), dist/index.js in an installed package.
const INDEX = new URL(`../index${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;

// Only the ambiguous extensions: .mjs/.mts/.cjs/.cts already say what they are.
const AMBIGUOUS = /\.(js|ts|jsx|tsx)$/;
// A top-level `import x from`, `import {`, `import '…'` or `export …` at the start of a line.
// A line-based look rather than a parse: walkers are small files a person wrote, and a wrong
// guess only ever turns a file that would fail as CommonJS into one tried as an ES module.
const ESM_SYNTAX = /^[ \t]*(import[ \t]*[\w{*'"]|export[ \t]+[\w{*]|export[ \t]*\{)/m;

/**
 * 'module' for a file written as an ES module (it has top-level import/export), undefined
 * otherwise: a file using `require`/`module.exports` with no import/export really is CommonJS and
 * keeps the format Node gave it.
 */
export function moduleFormat(source: string): 'module' | undefined {
  return ESM_SYNTAX.test(source) ? 'module' : undefined;
}

// Handed on as a file URL rather than short-circuited, so tsx's resolver sees it and marks it as
// TypeScript for its load hook (short-circuiting here leaves Node to load a .ts file itself).
export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const resolved = withTree(specifier, context.parentURL, await nextResolve(specifier === 'walker-hub' ? INDEX : specifier, context));
  const { url, format } = resolved;
  // tsx has already turned 'commonjs-typescript' into 'commonjs' by the time it returns here.
  if (format !== 'commonjs' || !url.startsWith('file:') || url.includes('/node_modules/')) return resolved;
  const path = fileURLToPath(url);
  if (!AMBIGUOUS.test(path)) return resolved;
  // tsx's load hook transpiles a .ts file as an ES module when told 'module'.
  return moduleFormat(readFileSync(path, 'utf8')) === 'module' ? { ...resolved, format: 'module' } : resolved;
};

const TREE = /[?&](walker-hub-tree=\d+)/;

/** A relative import from a module loaded with `walker-hub-tree=G` gets the same query (see above). */
function withTree<R extends { url: string }>(specifier: string, parentURL: string | undefined, resolved: R): R {
  if (parentURL === undefined || !specifier.startsWith('.')) return resolved;
  const tree = TREE.exec(parentURL)?.[1];
  const { url } = resolved;
  if (tree === undefined || !url.startsWith('file:') || url.includes('/node_modules/')) return resolved;
  // tsx may have put a query of its own there already.
  return { ...resolved, url: `${url}${url.includes('?') ? '&' : '?'}${tree}` };
}
