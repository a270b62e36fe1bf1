/**
 * Headless Chromium for the browser tests (playwright-core driving Debian's /usr/bin/chromium).
 * Without it a browser suite skips loudly, unless REQUIRE_SERVICES=1 (CI), where that is a failure.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { describe } from 'vitest';
import { withService } from './broker-helpers.js';

export const CHROMIUM = '/usr/bin/chromium';
/** How long a polled page state may take to appear on a loaded machine (a bound, not a pause). */
export const POLL = { timeout: 20_000 };

/** `describe(name, body)` when Chromium is installed; otherwise a failure under REQUIRE_SERVICES=1, else a printed skip (withService). */
export function withChromium(name: string, body: () => void): void {
  withService(name, `${CHROMIUM} (apt-get install chromium)`, existsSync(CHROMIUM) ? CHROMIUM : undefined, () => describe(name, body));
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

/** Collects the page's uncaught errors and console errors into `problems` (a test expects none). */
export function recordProblems(page: Page, problems: string[]): void {
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(msg.text());
  });
}
