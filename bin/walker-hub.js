#!/usr/bin/env node
// Runs the TypeScript sources (and TypeScript walkers) directly: tsx's loader is registered first,
// so no build step is needed. Then `walker-hub` is made importable from walkers in any folder
// (see src/walkers/resolve-hook.ts); hooks registered later run first, so it is asked before tsx.
import { register as registerHooks } from 'node:module';
import { register } from 'tsx/esm/api';

register();
registerHooks('../src/walkers/resolve-hook.ts', import.meta.url);
await import('../src/cli.ts');
