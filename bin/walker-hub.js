#!/usr/bin/env node
// Runs the TypeScript sources (and TypeScript walkers) directly: tsx's loader is registered first,
// so no build step is needed.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
