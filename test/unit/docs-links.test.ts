/**
 * The README is the way into the docs: every page in docs/ is linked from it, and every relative
 * link in the README and the docs names a file that exists and, with a `#fragment`, a heading of it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '../..');
const pages = ['README.md', ...readdirSync(join(REPO, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const anchor = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

function anchors(file: string): Set<string> {
  const text = readFileSync(join(REPO, file), 'utf8').replace(/^```[\s\S]*?^```$/gm, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1]!)));
}

function links(file: string): Array<{ target: string; fragment: string | null }> {
  const text = readFileSync(join(REPO, file), 'utf8').replace(/^```[\s\S]*?^```$/gm, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((href) => !/^[a-z]+:/.test(href))
    .map((href) => {
      const [path, fragment] = href.split('#') as [string, string | undefined];
      const target = path === '' ? file : relative(REPO, join(dirname(join(REPO, file)), path));
      return { target, fragment: fragment ?? null };
    });
}

it('links every docs page from the README', () => {
  const fromReadme = new Set(links('README.md').map((l) => l.target));
  expect(pages.filter((p) => p !== 'README.md' && !fromReadme.has(p))).toEqual([]);
});

it('has no broken relative link or anchor in the README and docs/', () => {
  const broken: string[] = [];
  for (const file of pages) {
    for (const { target, fragment } of links(file)) {
      if (!existsSync(join(REPO, target))) {
        broken.push(`${file}: ${target}`);
        continue;
      }
      if (fragment !== null && target.endsWith('.md') && !anchors(target).has(fragment)) broken.push(`${file}: ${target}#${fragment}`);
    }
  }
  expect(broken).toEqual([]);
});
