/**
 * Reads and checks the channels file at start: every problem (unreadable file, bad JSON, each
 * schema issue, a `subscribe_walker` that names no loaded walker) reported at once.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config.js';
import { channelsFileSchema, type ChannelsFile } from './schema.js';

/** The loaded walkers, as far as this check needs them. */
export type WalkerMethods = ReadonlyMap<string, { readonly methods: ReadonlySet<string> }>;

/** With no file: one default namespace with today's behaviour. */
export const NO_CHANNELS_FILE: ChannelsFile = channelsFileSchema.parse({});

export function loadChannelsFile(file: string | undefined, walkers: WalkerMethods): ChannelsFile {
  if (file === undefined) return NO_CHANNELS_FILE;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`channels (--channels / WALKER_HUB_CHANNELS): cannot read ${file}: ${(err as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`channels file ${file}: not valid JSON: ${(err as Error).message}`]);
  }
  return parseChannelsFile(raw, walkers, file);
}

/** Validates the file's content (as tests and embedders pass it). */
export function parseChannelsFile(raw: unknown, walkers: WalkerMethods, where = 'channels'): ChannelsFile {
  const parsed = channelsFileSchema.safeParse(raw);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${where}: ${issue.path.map(String).join('.') || '(top level)'}: ${issue.message}`);
    throw new ConfigError(problems);
  }
  const file = parsed.data;
  const all = [...(file.default ? [['default', file.default] as const] : []), ...Object.entries(file.namespaces).map(([name, o]) => [`namespaces.${name}`, o] as const)];
  for (const [path, options] of all) {
    const name = options.subscribe_walker;
    if (name === undefined) continue;
    const methods = walkers.get(name)?.methods;
    if (methods === undefined) problems.push(`${where}: ${path}.subscribe_walker: no walker named "${name}" is loaded`);
    else if (!methods.has('websocket')) problems.push(`${where}: ${path}.subscribe_walker: walker "${name}" must list 'websocket' in its methods (it runs as a call of the subscribing connection)`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(file);
}

/** What loadChannelsFile would report against `walkers` (after `--watch` changed them); empty when it still matches. */
export function channelsFileProblems(file: string, walkers: WalkerMethods): string[] {
  try {
    loadChannelsFile(file, walkers);
    return [];
  } catch (err) {
    return err instanceof ConfigError ? err.problems : [String(err)];
  }
}
