#!/usr/bin/env node
// Two layouts, told apart by whether the TypeScript sources are here:
// - a checkout (src/cli.ts exists): the hub runs from its sources through tsx, no build step, so
//   `npm start` and the CLI tests always run the code as it is now (even with a stale dist/);
// - an installed package (only dist/ is shipped): the hub runs its built JavaScript.
// Either way tsx's loader is registered so TypeScript walkers run without a build, and then
// `walker-hub` is made importable from walkers in any folder (src/walkers/resolve-hook.ts);
// hooks registered later run first, so it is asked before tsx.
import { existsSync } from 'node:fs';
import { register as registerHooks } from 'node:module';
import { register } from 'tsx/esm/api';

const fromSource = existsSync(new URL('../src/cli.ts', import.meta.url));
register();
registerHooks(fromSource ? '../src/walkers/resolve-hook.ts' : '../dist/walkers/resolve-hook.js', import.meta.url);
await import(fromSource ? '../src/cli.ts' : '../dist/cli.js');
