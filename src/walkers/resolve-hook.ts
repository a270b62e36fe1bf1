/**
 * A `node:module` resolve hook the CLI registers (bin/walker-hub.js, after tsx's own hooks), so a
 * walker module in any folder can `import { defineWalker, z } from 'walker-hub'`: a folder outside
 * this package, or one with its own package.json, has no `node_modules/walker-hub` to find.
 *
 * The specifier resolves to this hub's own index (src/index.ts, or dist/index.js once built), the same URL the hub's modules reach it
 * by, so walkers share the hub's module instances: one `defineWalker`, one zod (zod's
 * `instanceof` checks depend on it).
 * Only the bare `walker-hub` is mapped, as package.json exports only "."; anything else goes on
 * to the next resolver. Runs in Node's hooks thread, so it imports nothing from the hub.
 */
import type { ResolveHook } from 'node:module';

// Beside this file: src/index.ts in a checkout (run through tsx), dist/index.js in an installed package.
const INDEX = new URL(`../index${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;

// Handed on as a file URL rather than short-circuited, so tsx's resolver sees it and marks it as
// TypeScript for its load hook (short-circuiting here leaves Node to load a .ts file itself).
export const resolve: ResolveHook = (specifier, context, nextResolve) => nextResolve(specifier === 'walker-hub' ? INDEX : specifier, context);
