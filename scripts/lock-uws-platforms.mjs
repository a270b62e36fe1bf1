#!/usr/bin/env node
// uWebSockets.js (npm:@uwsjs/core) lists one optional binary package per platform and Node ABI, but
// the registry here only carries the linux-x64 ones, so a freshly generated package-lock.json lacks
// the others and `npm ci` refuses it as out of sync. This adds lock entries for the missing ones,
// marked optional with their os/cpu, so `npm ci` skips them on every other platform.
// Run it only after regenerating package-lock.json from scratch; `npm install` keeps the entries.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const core = lock.packages['node_modules/uWebSockets.js'];
let added = 0;
for (const [name, version] of Object.entries(core.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (lock.packages[key]) continue;
  const m = /^@uwsjs\/(\w+)-(\w+)-(\d+)$/.exec(name);
  if (!m) throw new Error(`unexpected optional dependency ${name}`);
  const [, os, cpu, node] = m;
  lock.packages[key] = { version, license: 'Apache-2.0', optional: true, os: [os], cpu: [cpu], engines: { node: `>=${node}.0.0 <${Number(node) + 1}.0.0` } };
  added++;
}
writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(`added ${added} platform entries`);
