import { describe, expect, it } from 'vitest';
import { MAX_REDIRECT_DELAY_MS, pageMatches, resolveRedirect } from '../../src/client/redirect.js';

const at = 'http://127.0.0.1:8000/demo/rooms/lobby?x=1#top';
const href = (target: string, from = at) => {
  const action = resolveRedirect({ target }, from);
  return action.kind === 'navigate' ? action.href : action.kind;
};

describe('Directual redirect rules', () => {
  it('<= goes back in history', () => {
    expect(resolveRedirect({ target: '<=', delay: 200 }, at)).toEqual({ kind: 'back', delayMs: 200 });
  });

  it('../ goes up one level per ../, and may append a path', () => {
    expect(href('../')).toBe('http://127.0.0.1:8000/demo/rooms');
    expect(href('../../')).toBe('http://127.0.0.1:8000/demo');
    expect(href('../../../../')).toBe('http://127.0.0.1:8000/');
    expect(href('../kitchen')).toBe('http://127.0.0.1:8000/demo/rooms/kitchen');
  });

  it('./param appends to the right of the current path', () => {
    expect(href('./42')).toBe('http://127.0.0.1:8000/demo/rooms/lobby/42');
    expect(href('./42', 'http://127.0.0.1:8000/demo/')).toBe('http://127.0.0.1:8000/demo/42');
    expect(href('./a/b', 'http://127.0.0.1:8000/')).toBe('http://127.0.0.1:8000/a/b');
  });

  it('other targets resolve against the page and must stay on its origin', () => {
    expect(href('/my-page')).toBe('http://127.0.0.1:8000/my-page');
    expect(href('profile?tab=2')).toBe('http://127.0.0.1:8000/demo/rooms/profile?tab=2');
    expect(resolveRedirect({ target: 'https://evil.example/login' }, at)).toMatchObject({ kind: 'ignore' });
    expect(resolveRedirect({ target: '//evil.example/' }, at)).toMatchObject({ kind: 'ignore' });
    expect(resolveRedirect({ target: 'javascript:alert(1)' }, at)).toMatchObject({ kind: 'ignore' });
  });

  it('page limits the frame to those pages and their sub-pages', () => {
    expect(resolveRedirect({ target: '<=', page: 'my-home-page,rooms' }, at).kind).toBe('back');
    expect(resolveRedirect({ target: '<=', page: 'lobby' }, at).kind).toBe('back');
    expect(resolveRedirect({ target: '<=', page: 'profile' }, at)).toMatchObject({ kind: 'ignore' });
    expect(pageMatches('/profile/edit', ' profile , x')).toBe(true);
    expect(pageMatches('/profiles', 'profile')).toBe(false);
    expect(pageMatches('/anything', '')).toBe(true);
  });

  it('delays are clamped; malformed frames are ignored, never thrown', () => {
    expect(resolveRedirect({ target: '<=', delay: 1e12 }, at)).toEqual({ kind: 'back', delayMs: MAX_REDIRECT_DELAY_MS });
    expect(resolveRedirect({ target: '<=', delay: -5 }, at)).toEqual({ kind: 'back', delayMs: 0 });
    expect(resolveRedirect({ target: '<=', delay: '9' }, at)).toEqual({ kind: 'back', delayMs: 0 });
    for (const bad of [null, 'x', 42, {}, { target: '' }, { target: 7 }, { target: '<=', page: 3 }]) {
      expect(resolveRedirect(bad, at).kind).toBe('ignore');
    }
  });
});
