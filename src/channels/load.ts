/**
 * Reads and checks the channels file at start: every problem (unreadable file, bad JSON, each
 * schema issue, a `subscribe_walker` that names no loaded walker) reported at once.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config.js';
import { channelsFileSchema, type ChannelsFile } from './schema.js';

/** With no file: one default namespace with today's behaviour. */
export const NO_CHANNELS_FILE: ChannelsFile = channelsFileSchema.parse({});

export function loadChannelsFile(file: string | undefined, walkerNames: ReadonlySet<string>): ChannelsFile {
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
  return parseChannelsFile(raw, walkerNames, file);
}

/** Validates the file's content (as tests and embedders pass it). */
export function parseChannelsFile(raw: unknown, walkerNames: ReadonlySet<string>, where = 'channels'): ChannelsFile {
  const parsed = channelsFileSchema.safeParse(raw);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${where}: ${issue.path.map(String).join('.') || '(top level)'}: ${issue.message}`);
    throw new ConfigError(problems);
  }
  const file = parsed.data;
  const all = [...(file.default ? [['default', file.default] as const] : []), ...Object.entries(file.namespaces).map(([name, o]) => [`namespaces.${name}`, o] as const)];
  for (const [path, options] of all) {
    if (options.subscribe_walker !== undefined && !walkerNames.has(options.subscribe_walker)) {
      problems.push(`${where}: ${path}.subscribe_walker: no walker named "${options.subscribe_walker}" is loaded`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(file);
}
