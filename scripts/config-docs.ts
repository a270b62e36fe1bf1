/**
 * Generates docs/configuration.md from the config schema (src/config.ts), the single source of
 * every flag, environment variable, default and meaning. `npm run docs:config` writes the page;
 * test/unit/config-docs.test.ts fails when the committed page differs from what this renders.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configReference } from '../src/config.js';

export const CONFIG_DOCS_PATH = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));

/** A table cell: pipes escaped, code spans kept as the help wrote them. */
const cell = (text: string): string => text.replace(/\|/g, '\\|');

export function renderConfigDocs(): string {
  const rows = configReference().map((o) => {
    let def = o.default === '' ? '—' : o.literal ? `\`${o.default}\`` : o.default;
    if (o.jacCloudDefault !== null) def += ` (jac-cloud profile: \`${o.jacCloudDefault}\`)`;
    const range = o.range === null ? '' : ` (${o.range})`;
    const see = o.see === null ? '' : ` ([${o.see.replace(/\.md$/, '')}](${o.see}))`;
    return `| \`--${o.flag}\` | \`${o.env}\` | ${cell(def)} | ${cell(o.meaning)}${range}${see} |`;
  });
  return [
    '# Configuration',
    '',
    '<!-- Generated from src/config.ts by `npm run docs:config`; edit the schema, not this page. -->',
    '',
    'Every option is a flag and an environment variable; flags win. The options are checked once at start',
    'against one schema: every problem is reported at once and the hub exits with status 2.',
    '`npx walker-hub --help` prints the same list. Defaults marked "jac-cloud profile" apply with',
    '`--protocol jac-cloud` unless you set the option yourself ([jac-cloud](jac-cloud.md)). Booleans take',
    '`true`, `false`, `1` or `0`; an empty variable counts as unset.',
    '',
    '| Flag | Environment | Default | Meaning |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
    'A program embedding the hub passes the same options by key (the `[key]` column of `--help`):',
    '`createHub({ config: parseConfig({ port: 0, walkersDir: \'walkers\' }) })`, both from `walker-hub`.',
    '',
  ].join('\n');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(CONFIG_DOCS_PATH, renderConfigDocs());
  console.log(`wrote ${CONFIG_DOCS_PATH}`);
}
