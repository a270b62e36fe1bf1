/**
 * Directual's redirect rules for a `redirect` frame's data (`{"target","delay","page"}`), as a pure
 * function of the frame and the current URL, so a page only has to carry out the result:
 *
 * - `<=` goes back in history;
 * - `../` goes up one path level (`../../` two, and so on), optionally followed by a path to append;
 * - `./param` appends a path segment to the current URL;
 * - anything else is a URL resolved against the current one, and must stay on the same origin:
 *   frames come from other clients, so a frame must not be able to send a user to another site.
 * - `page` (comma-separated names) limits the frame to those pages and their sub-pages: a page is a
 *   path segment, so `rooms` matches `/rooms`, `/rooms/lobby` and `/demo/rooms`.
 */

export type RedirectAction =
  | { readonly kind: 'back'; readonly delayMs: number }
  | { readonly kind: 'navigate'; readonly href: string; readonly delayMs: number }
  | { readonly kind: 'ignore'; readonly reason: string };

/** Longest delay honoured, ms; larger values are clamped (a frame should not schedule a navigation for days). */
export const MAX_REDIRECT_DELAY_MS = 60_000;

export function resolveRedirect(data: unknown, currentHref: string): RedirectAction {
  if (typeof data !== 'object' || data === null) return { kind: 'ignore', reason: 'redirect data is not an object' };
  const { target, delay, page } = data as { target?: unknown; delay?: unknown; page?: unknown };
  if (typeof target !== 'string' || target.trim() === '') return { kind: 'ignore', reason: 'redirect has no target' };
  const current = new URL(currentHref);
  if (page !== undefined && page !== null && page !== '') {
    if (typeof page !== 'string') return { kind: 'ignore', reason: 'page must be a string' };
    if (!pageMatches(current.pathname, page)) return { kind: 'ignore', reason: `not on page ${page}` };
  }
  const delayMs = typeof delay === 'number' && Number.isFinite(delay) && delay > 0 ? Math.min(delay, MAX_REDIRECT_DELAY_MS) : 0;
  const t = target.trim();
  if (t === '<=') return { kind: 'back', delayMs };

  const segments = current.pathname.split('/').filter((s) => s !== '');
  let path: string | null = null;
  if (t.startsWith('../')) {
    let rest = t;
    let up = 0;
    while (rest.startsWith('../')) {
      rest = rest.slice(3);
      up++;
    }
    path = '/' + [...segments.slice(0, Math.max(0, segments.length - up)), ...rest.split('/').filter((s) => s !== '')].join('/');
  } else if (t.startsWith('./')) {
    path = '/' + [...segments, ...t.slice(2).split('/').filter((s) => s !== '')].join('/');
  }
  if (path !== null) return { kind: 'navigate', href: new URL(path, current.origin).href, delayMs };

  let next: URL;
  try {
    next = new URL(t, current);
  } catch {
    return { kind: 'ignore', reason: `target is not a URL: ${t}` };
  }
  if (next.origin !== current.origin) return { kind: 'ignore', reason: `target leaves this site: ${next.origin}` };
  return { kind: 'navigate', href: next.href, delayMs };
}

/** True when `pathname` is one of the comma-separated pages or below one (empty list: every page). */
export function pageMatches(pathname: string, pages: string): boolean {
  const wanted = pages.split(',').map((p) => p.trim().replace(/^\/+|\/+$/g, '')).filter((p) => p !== '');
  if (wanted.length === 0) return true;
  const segments = pathname.split('/').filter((s) => s !== '');
  return wanted.some((p) => segments.includes(p));
}
