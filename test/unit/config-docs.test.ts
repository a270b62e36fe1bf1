/**
 * docs/configuration.md is generated from the config schema (`npm run docs:config`); this fails when
 * the committed page is not what the schema renders now, so the table cannot drift from the code.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_DOCS_PATH, renderConfigDocs } from '../../scripts/config-docs.js';
import { configReference, parseConfig } from '../../src/config.js';

describe('docs/configuration.md', () => {
  it('is what `npm run docs:config` generates from src/config.ts (run it after changing the schema)', () => {
    expect(readFileSync(CONFIG_DOCS_PATH, 'utf8')).toBe(renderConfigDocs());
  });

  it('has one row per option, with its flag, variable and the default parsing applies', () => {
    const lines = renderConfigDocs().split('\n');
    const applied = parseConfig({}) as Record<string, unknown>;
    const jacCloud = parseConfig({ protocol: 'jac-cloud' }) as Record<string, unknown>;
    const options = configReference();
    expect(lines.filter((l) => l.startsWith('| `--'))).toHaveLength(options.length);
    for (const o of options) {
      const row = lines.find((l) => l.startsWith(`| \`--${o.flag}\` | \`${o.env}\` |`));
      expect(row, o.flag).toBeDefined();
      if (o.literal) {
        expect(String(applied[o.key]), o.flag).toBe(o.default);
        expect(row, o.flag).toContain(`| \`${o.default}\``);
      }
      if (o.jacCloudDefault !== null) expect(String(jacCloud[o.key]), o.flag).toBe(o.jacCloudDefault);
    }
  });
});
