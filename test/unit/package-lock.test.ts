/**
 * `npm install` on a fresh clone must leave package-lock.json as committed. npm writes the lock's
 * `packages` in localeCompare('en') order; a lock in any other order (e.g. code-point order, where
 * `uWebSockets.js` sorts before `undici-types`) is rewritten by the next install.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as {
  lockfileVersion: number;
  packages: Record<string, { version?: string; optionalDependencies?: Record<string, string> }>;
};
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

it('lists packages in the order npm writes them', () => {
  const keys = Object.keys(lock.packages);
  const npmOrder = [...keys].sort((a, b) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b, 'en')));
  expect(keys).toEqual(npmOrder);
});

it('is a lockfileVersion 3 lock of this package, with every optional platform package listed', () => {
  expect(lock.lockfileVersion).toBe(3);
  expect(lock.packages['']?.version).toBe(pkg.version);
  const missing = Object.values(lock.packages)
    .flatMap((entry) => Object.keys(entry.optionalDependencies ?? {}))
    .filter((name) => lock.packages[`node_modules/${name}`] === undefined);
  expect(missing).toEqual([]);
});
