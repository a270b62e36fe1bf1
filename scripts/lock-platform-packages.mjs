#!/usr/bin/env node
// Some dependencies list one optional binary package per platform (uWebSockets.js per Node ABI,
// msgpackr-extract under lmdb), but the registry here only carries the linux-x64 ones. A freshly
// generated package-lock.json then lacks the others and `npm ci` refuses it as out of sync. This
// adds lock entries for every missing optional platform package, with its os/cpu, so `npm ci`
// skips them on other platforms. Run it after regenerating package-lock.json from scratch;
// `npm install` keeps the entries.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const PLATFORM = /(darwin|linux|win32|freebsd)-(x64|arm64|arm|ia32)(?:-(\d+))?$/;
let added = 0;
for (const entry of Object.values(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (lock.packages[key]) continue;
    const m = PLATFORM.exec(name);
    if (!m) throw new Error(`missing optional dependency ${name} is not a platform package; install it instead`);
    const [, os, cpu, nodeMajor] = m;
    lock.packages[key] = {
      version,
      optional: true,
      os: [os],
      cpu: [cpu],
      ...(nodeMajor ? { engines: { node: `>=${nodeMajor}.0.0 <${Number(nodeMajor) + 1}.0.0` } } : {}),
    };
    added++;
  }
}
// npm orders lock entries with localeCompare(…, 'en') (case-insensitive first: `undici-types` before
// `uWebSockets.js`); any other order makes the next `npm install` rewrite the file.
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b, 'en'))));
writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(`added ${added} platform entries`);
