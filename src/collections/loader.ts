/**
 * Loads collection modules from a folder at start-up, as walkers are loaded: every problem (an
 * unreadable folder, a module that fails to import, a default export that is not a collection, a
 * bad field or access level, a duplicate name) is collected and reported at once, each naming its file.
 */
import { statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { accessLevels, isCollectionDefinition, itemActions, type AccessLevel, type CollectionAccess, type CollectionSchema } from './define.js';

export interface LoadedCollection {
  readonly name: string;
  readonly file: string;
  readonly schema: CollectionSchema;
  /** The schema's own fields (top-level keys). */
  readonly fields: readonly string[];
  readonly access: CollectionAccess;
  /** Public names of the hub-kept time fields. */
  readonly createdField: string;
  readonly updatedField: string;
  /** Fields the MongoDB store indexes. */
  readonly indexes: readonly string[];
  readonly description: string | undefined;
}

export class CollectionLoadError extends Error {
  constructor(readonly problems: string[]) {
    super(`Could not load collections:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'CollectionLoadError';
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MODULE = /\.(ts|mts|js|mjs)$/;
/** Skipped: type declarations, tests, and helpers whose names start with `_` or `.`. */
const SKIP = /(\.d\.[mc]?ts$)|(\.(test|spec)\.[mc]?[jt]s$)|(^[_.])/;

/** Checks one module's default export; returns the problems found (empty when it is a valid collection). */
export function checkCollection(file: string, exported: unknown): { collection?: LoadedCollection; problems: string[] } {
  const where = basename(file);
  if (!isCollectionDefinition(exported)) return { problems: [`${where}: default export must be defineCollection({ schema, access, ... })`] };
  const problems: string[] = [];
  const name = exported.name ?? basename(file, extname(file));
  if (!NAME.test(name)) problems.push(`${where}: collection name "${name}" must match ${NAME} (it becomes a URL path)`);
  const schema = exported.schema as unknown;
  const shape = typeof schema === 'object' && schema !== null ? (schema as { shape?: unknown }).shape : undefined;
  if (typeof shape !== 'object' || shape === null || typeof (schema as { safeParseAsync?: unknown }).safeParseAsync !== 'function') {
    problems.push(`${where}: schema must be a zod object (z.object({...}))`);
  }
  const fields = typeof shape === 'object' && shape !== null ? Object.keys(shape) : [];
  const createdField = exported.timestamps?.created ?? 'created_at';
  const updatedField = exported.timestamps?.updated ?? 'updated_at';
  const system = ['id', 'owner', createdField, updatedField];
  for (const f of [createdField, updatedField]) if (!FIELD.test(f)) problems.push(`${where}: timestamp field "${f}" must match ${FIELD}`);
  if (createdField === updatedField) problems.push(`${where}: timestamps.created and timestamps.updated must differ`);
  for (const f of fields) {
    if (!FIELD.test(f)) problems.push(`${where}: field "${f}" must match ${FIELD}`);
    else if (system.includes(f)) problems.push(`${where}: field "${f}" is kept by the hub (${system.join(', ')}); remove it from the schema`);
  }
  const access: Partial<Record<string, unknown>> = typeof exported.access === 'object' && exported.access !== null ? exported.access : {};
  if (typeof exported.access !== 'object' || exported.access === null) problems.push(`${where}: access must be an object of ${itemActions.join(', ')}`);
  for (const key of Object.keys(access)) {
    if (!(itemActions as readonly string[]).includes(key)) problems.push(`${where}: access.${key} is not an action (${itemActions.join(', ')})`);
    else if (!(accessLevels as readonly unknown[]).includes(access[key])) problems.push(`${where}: access.${key} must be one of ${accessLevels.join(', ')}`);
  }
  const indexes = exported.indexes ?? [];
  for (const f of indexes) if (!fields.includes(f)) problems.push(`${where}: indexes names "${f}", which is not a field of the schema`);
  if (problems.length > 0) return { problems };
  const levels = Object.fromEntries(itemActions.map((a) => [a, (access[a] as AccessLevel | undefined) ?? 'none'])) as unknown as CollectionAccess;
  return {
    problems,
    collection: Object.freeze({
      name,
      file,
      schema: exported.schema,
      fields,
      access: Object.freeze(levels),
      createdField,
      updatedField,
      indexes: [...indexes],
      description: exported.description,
    }),
  };
}

export async function loadCollections(dir: string): Promise<Map<string, LoadedCollection>> {
  const folder = resolve(dir);
  let entries: string[];
  try {
    entries = (await readdir(folder, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  } catch (err) {
    throw new CollectionLoadError([`collections folder ${folder}: ${(err as Error).message}`]);
  }
  const files = entries.filter((f) => MODULE.test(f) && !SKIP.test(f)).sort();
  const problems: string[] = [];
  const collections = new Map<string, LoadedCollection>();
  for (const f of files) {
    const file = join(folder, f);
    let mod: { default?: unknown };
    try {
      mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
    } catch (err) {
      problems.push(`${f}: failed to import: ${err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err)}`);
      continue;
    }
    const checked = checkCollection(file, mod.default);
    problems.push(...checked.problems);
    const collection = checked.collection;
    if (!collection) continue;
    const previous = collections.get(collection.name);
    if (previous) {
      problems.push(`${f}: duplicate collection name "${collection.name}" (also defined in ${basename(previous.file)})`);
      continue;
    }
    collections.set(collection.name, collection);
  }
  if (problems.length > 0) throw new CollectionLoadError(problems);
  return collections;
}

/** Turns definitions into the map createHub takes, checked as the loader checks them (for embedders and tests). */
export function collectionsFrom(defs: Record<string, unknown>): Map<string, LoadedCollection> {
  const map = new Map<string, LoadedCollection>();
  const problems: string[] = [];
  for (const [file, def] of Object.entries(defs)) {
    const { collection, problems: found } = checkCollection(`${file}.ts`, def);
    problems.push(...found);
    if (collection) map.set(collection.name, collection);
  }
  if (problems.length > 0) throw new CollectionLoadError(problems);
  return map;
}

/** The folder to load: the configured one, else `./collections` when it is a folder here, else none. */
export function chooseCollectionsFolder(configured: string | undefined): string | undefined {
  if (configured !== undefined) return configured;
  return statSync('collections', { throwIfNoEntry: false })?.isDirectory() ? 'collections' : undefined;
}
