/**
 * Loads walker modules from a folder at start-up. Every problem (unreadable folder, a module that
 * fails to import, a default export that is not a walker, a duplicate name) is collected and
 * reported at once, each naming its file.
 */
import { readdir } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { anyObjectInput, isWalkerDefinition, walkerMethods, type InputSchema, type WalkerDefinition, type WalkerMethod } from './define.js';

export interface LoadedWalker {
  readonly name: string;
  readonly file: string;
  readonly input: InputSchema;
  readonly auth: boolean;
  readonly methods: ReadonlySet<WalkerMethod>;
  readonly description: string | undefined;
  readonly run: WalkerDefinition['run'];
}

export class WalkerLoadError extends Error {
  constructor(readonly problems: string[]) {
    super(`Could not load walkers:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'WalkerLoadError';
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const MODULE = /\.(ts|mts|cts|js|mjs|cjs)$/;
/** Skipped: type declarations, tests, and helpers whose names start with `_` or `.`. */
const SKIP = /(\.d\.[mc]?ts$)|(\.(test|spec)\.[mc]?[jt]s$)|(^[_.])/;

/** A module file of the folder (a walker or a helper), by its base name. */
export function isModuleFile(name: string): boolean {
  return MODULE.test(name);
}

/** A file the loader loads as a walker, by its base name (helpers, tests and declarations are not). */
export function isWalkerFile(name: string): boolean {
  return MODULE.test(name) && !SKIP.test(name);
}

/**
 * Imports one walker file from `href` (its file URL, with a query string when the watcher
 * reloads it) and checks its default export. Never throws: problems are returned, each naming the file.
 */
export async function importWalker(file: string, href: string = pathToFileURL(file).href): Promise<{ walker?: LoadedWalker; problems: string[] }> {
  let mod: { default?: unknown };
  try {
    mod = (await import(href)) as { default?: unknown };
  } catch (err) {
    return { problems: [`${basename(file)}: failed to import: ${importFailure(err)}`] };
  }
  return checkWalker(file, mod.default);
}

/** Checks one module's default export; returns the problems found (empty when it is a valid walker). */
export function checkWalker(file: string, exported: unknown): { walker?: LoadedWalker; problems: string[] } {
  const where = basename(file);
  if (!isWalkerDefinition(exported)) {
    return { problems: [`${where}: default export must be defineWalker({ input, run, ... })`] };
  }
  const problems: string[] = [];
  const name = exported.name ?? basename(file, extname(file));
  if (!NAME.test(name)) problems.push(`${where}: walker name "${name}" must match ${NAME} (it becomes a URL path)`);
  const input = (exported.input ?? anyObjectInput) as unknown;
  // The runner parses through `_zod.run` (see parse-input.ts), so that is what is checked for.
  if (typeof input !== 'object' || input === null || typeof (input as { _zod?: { run?: unknown } })._zod?.run !== 'function') {
    problems.push(`${where}: input must be a zod schema`);
  }
  if (typeof exported.run !== 'function') problems.push(`${where}: run must be a function`);
  if (exported.auth !== undefined && typeof exported.auth !== 'boolean') problems.push(`${where}: auth must be true or false`);
  const methods = exported.methods ?? ['post'];
  if (!Array.isArray(methods) || methods.length === 0 || methods.some((m) => !walkerMethods.includes(m))) {
    problems.push(`${where}: methods must be a non-empty list of ${walkerMethods.map((m) => `"${m}"`).join(', ')}`);
  }
  if (problems.length > 0) return { problems };
  return {
    problems,
    walker: Object.freeze({
      name,
      file,
      input: exported.input ?? anyObjectInput,
      auth: exported.auth ?? true,
      methods: new Set(methods),
      description: exported.description,
      run: exported.run,
    }),
  };
}

export async function loadWalkers(dir: string): Promise<Map<string, LoadedWalker>> {
  const folder = resolve(dir);
  let entries: string[];
  try {
    entries = (await readdir(folder, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  } catch (err) {
    throw new WalkerLoadError([`walkers folder ${folder}: ${(err as Error).message}`]);
  }
  const files = entries.filter(isWalkerFile).sort();
  const problems: string[] = [];
  const walkers = new Map<string, LoadedWalker>();
  for (const f of files) {
    const file = join(folder, f);
    const checked = await importWalker(file);
    problems.push(...checked.problems);
    const walker = checked.walker;
    if (!walker) continue;
    const previous = walkers.get(walker.name);
    if (previous) {
      problems.push(`${f}: duplicate walker name "${walker.name}" (also defined in ${basename(previous.file)})`);
      continue;
    }
    walkers.set(walker.name, walker);
  }
  if (problems.length > 0) throw new WalkerLoadError(problems);
  return walkers;
}

function importFailure(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? firstLines(err.message) : String(err);
  if (code === 'ERR_REQUIRE_CYCLE_MODULE' || code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_ASYNC_MODULE') {
    // A CommonJS walker (.cjs/.cts, or require/module.exports) reaching the hub's ES modules.
    return `${message} (CommonJS walkers cannot load the hub's ES modules: write the walker as an ES module, import { defineWalker } from 'walker-hub')`;
  }
  if (code === 'MODULE_NOT_FOUND' && message.includes("'walker-hub'")) {
    // The CLI maps 'walker-hub' for import only (resolve-hook.ts): Node 20's require() does not run module hooks.
    return `${message}: require('walker-hub') works only where walker-hub is installed; write the walker as an ES module (import { defineWalker } from 'walker-hub'), which loads from any folder`;
  }
  return message;
}

/** The first line of a message, and the next one when the first only announces it (esbuild's "Transform failed with 1 error:"). */
function firstLines(message: string): string {
  const [first = message, second] = message.split('\n');
  return first.endsWith(':') && second !== undefined && second.trim() !== '' ? `${first} ${second.trim()}` : first;
}
