/**
 * The one ItemStore contract (src/store/items.ts): every store runs it through its own factory
 * (store-lmdb.test.ts, store-mongodb.test.ts), on a fresh store per test. Beyond fixed cases, a
 * seeded differential test compares each store's answers with the in-memory evaluator's, which
 * live subscriptions use: a query and an event filter must agree on every item.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { matches, sortComparator, type Condition, type Scalar, type SortKey, type StoredItem, type StoreQuery } from '../../src/store/items.js';
import type { Store } from '../../src/store/store.js';
import { prng } from '../prng.js';
import type { StoreFixture } from './store.contract.js';

let seq = 0;
function item(data: Record<string, unknown>, over: Partial<StoredItem> = {}): StoredItem {
  seq++;
  const t = `2026-01-01T00:00:00.${String(seq).padStart(6, '0')}Z`;
  return { id: `item-${String(seq).padStart(6, '0')}`, owner: 'n::a', created: t, updated: t, rev: 1, data, ...over };
}
const q = (over: Partial<StoreQuery> = {}): StoreQuery => ({ filter: null, sort: [{ path: 'created', dir: 1 }], limit: 100, offset: 0, ...over });
const cmp = (path: string, op: 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte' | 'contains' | 'in', value: Scalar | Scalar[]): Condition => ({ kind: 'cmp', path, op, value });

export function itemsContract(name: string, factory: () => Promise<StoreFixture>): void {
  describe(`${name} items contract`, () => {
    let fixture: StoreFixture;
    let store: Store;
    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
      await store.items.prepare('things', ['data.n']);
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    const ids = async (query: StoreQuery, collection = 'things') => (await store.items.query(collection, query)).map((i) => i.id);

    it('inserts, gets, replaces and removes only at the expected rev', async () => {
      const a = item({ n: 1, s: 'x' });
      await store.items.insert('things', a);
      expect(await store.items.get('things', a.id)).toEqual(a);
      expect(await store.items.get('things', 'missing')).toBeNull();
      expect(await store.items.get('other', a.id)).toBeNull();
      const next = { ...a, rev: 2, updated: '2026-01-02T00:00:00.000000Z', data: { n: 2 } };
      expect(await store.items.replace('things', next, 5)).toBe(false);
      expect(await store.items.replace('things', next, 1)).toBe(true);
      expect(await store.items.get('things', a.id)).toEqual(next);
      expect(await store.items.replace('things', { ...next, rev: 3 }, 1)).toBe(false);
      expect(await store.items.remove('things', a.id, 1)).toBe(false);
      expect(await store.items.remove('things', a.id, 2)).toBe(true);
      expect(await store.items.get('things', a.id)).toBeNull();
      expect(await store.items.remove('things', a.id, 2)).toBe(false);
      expect(await ids(q())).toEqual([]);
    });

    it('keeps collections apart and pages in creation order by default', async () => {
      const made = [item({ n: 1 }), item({ n: 2 }), item({ n: 3 }), item({ n: 4 })];
      for (const i of made) await store.items.insert('things', i);
      await store.items.insert('others', item({ n: 9 }));
      expect(await ids(q())).toEqual(made.map((i) => i.id));
      expect(await ids(q({ sort: [{ path: 'created', dir: -1 }], limit: 2 }))).toEqual([made[3]!.id, made[2]!.id]);
      expect(await ids(q({ offset: 1, limit: 2 }))).toEqual([made[1]!.id, made[2]!.id]);
      expect(await ids(q({ offset: 10 }))).toEqual([]);
      expect(await ids(q(), 'others')).toHaveLength(1);
    });

    it('filters with each operator, missing fields counting as null', async () => {
      const a = item({ n: 1, s: 'apple', b: true });
      const b = item({ n: 5, s: 'banana', b: false });
      const c = item({ n: 10, s: 'cherry', x: null });
      const d = item({ s: 'date' }, { owner: 'n::b' });
      for (const i of [a, b, c, d]) await store.items.insert('things', i);
      const f = (filter: Condition) => ids(q({ filter }));
      expect(await f(cmp('data.n', 'eq', 5))).toEqual([b.id]);
      expect(await f(cmp('data.n', 'neq', 5))).toEqual([a.id, c.id, d.id]);
      expect(await f(cmp('data.n', 'eq', null))).toEqual([d.id]);
      expect(await f(cmp('data.x', 'eq', null))).toEqual([a.id, b.id, c.id, d.id]);
      expect(await f(cmp('data.n', 'neq', null))).toEqual([a.id, b.id, c.id]);
      expect(await f(cmp('data.n', 'lt', 5))).toEqual([a.id]);
      expect(await f(cmp('data.n', 'lte', 5))).toEqual([a.id, b.id]);
      expect(await f(cmp('data.n', 'gt', 5))).toEqual([c.id]);
      expect(await f(cmp('data.n', 'gte', 5))).toEqual([b.id, c.id]);
      // Only values of the same type compare: a string bound never matches numbers.
      expect(await f(cmp('data.n', 'gt', 'a'))).toEqual([]);
      expect(await f(cmp('data.s', 'gte', 'c'))).toEqual([c.id, d.id]);
      expect(await f(cmp('data.s', 'contains', 'an'))).toEqual([b.id]);
      expect(await f(cmp('data.s', 'contains', '.*'))).toEqual([]);
      expect(await f(cmp('data.n', 'in', [1, 10, 'x']))).toEqual([a.id, c.id]);
      expect(await f(cmp('data.b', 'eq', false))).toEqual([b.id]);
      expect(await f(cmp('owner', 'eq', 'n::b'))).toEqual([d.id]);
      expect(await f(cmp('id', 'in', [a.id, d.id]))).toEqual([a.id, d.id]);
      expect(await f({ kind: 'and', all: [cmp('data.n', 'gte', 1), cmp('data.s', 'contains', 'e')] })).toEqual([a.id, c.id]);
      expect(await f({ kind: 'or', all: [cmp('data.n', 'eq', 1), cmp('owner', 'eq', 'n::b')] })).toEqual([a.id, d.id]);
    });

    it('sorts by several keys, missing first, then by id in the first key\'s direction', async () => {
      const a = item({ g: 'x', n: 2 });
      const b = item({ g: 'y', n: 1 });
      const c = item({ g: 'x', n: 1 });
      const d = item({ n: 7 });
      const e = item({ g: 'y', n: 1 });
      for (const i of [a, b, c, d, e]) await store.items.insert('things', i);
      expect(await ids(q({ sort: [{ path: 'data.g', dir: 1 }, { path: 'data.n', dir: -1 }] }))).toEqual([d.id, a.id, c.id, b.id, e.id]);
      expect(await ids(q({ sort: [{ path: 'data.n', dir: -1 }] }))).toEqual([d.id, a.id, e.id, c.id, b.id]);
      expect(await ids(q({ sort: [{ path: 'data.g', dir: -1 }], limit: 2, offset: 1 }))).toEqual([b.id, c.id]);
    });

    it('compares strings by code point, as UTF-8 bytes order them', async () => {
      const astral = item({ s: '\u{1F600}' });
      const high = item({ s: '\uFF21' });
      const low = item({ s: 'a' });
      for (const i of [astral, high, low]) await store.items.insert('things', i);
      expect(await ids(q({ sort: [{ path: 'data.s', dir: 1 }] }))).toEqual([low.id, high.id, astral.id]);
      expect(await ids(q({ filter: cmp('data.s', 'gt', '\uFF21') }))).toEqual([astral.id]);
    });

    it('answers random queries exactly as the in-memory evaluator does', async () => {
      const rng = prng(20);
      const words = ['alpha', 'beta', 'gamma', 'delta', 'Alpha', 'al', ''];
      const all: StoredItem[] = [];
      for (let i = 0; i < 60; i++) {
        const data: Record<string, unknown> = {};
        if (rng.chance(0.85)) data['n'] = rng.chance(0.2) ? null : rng.int(10) - 3;
        if (rng.chance(0.85)) data['s'] = rng.pick(words);
        if (rng.chance(0.5)) data['b'] = rng.chance(0.5);
        const it = item(data, { owner: rng.pick(['n::a', 'n::b', null]) });
        all.push(it);
        await store.items.insert('things', it);
      }
      const paths = ['data.n', 'data.s', 'data.b', 'owner', 'created', 'id'];
      const values = (): Scalar => rng.pick<Scalar>([null, true, false, 0, 3, -1, 'al', 'beta', 'n::a', 'gamma', 2.5]);
      const leaf = (): Condition => {
        const op = rng.pick(['eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'contains', 'in'] as const);
        const path = rng.pick(paths);
        if (op === 'in') return cmp(path, op, [values(), values()]);
        if (op === 'contains') return cmp(path, op, rng.pick(['al', 'a', 'ph', 'z']));
        if (op === 'lt' || op === 'lte' || op === 'gt' || op === 'gte') return cmp(path, op, rng.pick<Scalar>([0, 3, -1, 'b', 'al', 2.5]));
        return cmp(path, op, values());
      };
      const condition = (depth: number): Condition =>
        depth < 2 && rng.chance(0.3) ? { kind: rng.chance(0.5) ? 'and' : 'or', all: [condition(depth + 1), condition(depth + 1)] } : leaf();
      for (let round = 0; round < 150; round++) {
        const sort: SortKey[] = [];
        const keys = rng.int(3);
        for (let k = 0; k < keys; k++) sort.push({ path: rng.pick(['data.n', 'data.s', 'created', 'owner']), dir: rng.chance(0.5) ? 1 : -1 });
        const query: StoreQuery = { filter: rng.chance(0.8) ? condition(0) : null, sort: sort.length > 0 ? sort : [{ path: 'created', dir: 1 }], limit: 1 + rng.int(20), offset: rng.int(5) };
        const expected = all.filter((i) => matches(i, query.filter)).sort(sortComparator(query.sort)).slice(query.offset, query.offset + query.limit);
        expect(await ids(query), JSON.stringify(query)).toEqual(expected.map((i) => i.id));
      }
    });
  });
}
