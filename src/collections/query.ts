/**
 * A collection query (the wire form, protocol.ts `itemQuerySchema`) checked against one collection
 * and compiled for the store: public field names become store paths, filters become conditions.
 * Every problem is reported at once, each naming the unknown field or operator and what is known.
 */
import { HubError, type Issue } from '../errors.js';
import { DEFAULT_ITEMS_LIMIT, type ItemQuery } from '../protocol.js';
import type { CompareOp, Condition, Scalar, SortKey, StoredItem, StoreQuery } from '../store/items.js';
import type { LoadedCollection } from './loader.js';

/** Nesting of `_and` / `_or`, and field conditions in one filter, at most. */
export const MAX_FILTER_DEPTH = 5;
export const MAX_FILTER_CONDITIONS = 50;
export const MAX_SORT_KEYS = 5;
const MAX_IN_VALUES = 100;

const operators: Record<string, CompareOp> = { _eq: 'eq', _neq: 'neq', _lt: 'lt', _lte: 'lte', _gt: 'gt', _gte: 'gte', _contains: 'contains', _in: 'in' };
const operatorList = Object.keys(operators).join(', ');

export interface CompiledQuery {
  readonly store: StoreQuery;
  /** Makes the public item (only the requested fields). */
  readonly project: (item: StoredItem) => Record<string, unknown>;
  /** Key of the projection: subscribers with equal keys get the same encoded event. */
  readonly fieldsKey: string;
}

/** Public field name → store path, for one collection. */
export function pathsOf(collection: LoadedCollection): Map<string, string> {
  const paths = new Map<string, string>([['id', 'id']]);
  for (const f of collection.fields) paths.set(f, `data.${f}`);
  paths.set('owner', 'owner');
  paths.set(collection.createdField, 'created');
  paths.set(collection.updatedField, 'updated');
  return paths;
}

/** The public form of a stored item: `id`, the collection's fields, `owner` and the two times. */
export function publicItem(collection: LoadedCollection, item: StoredItem): Record<string, unknown> {
  return { id: item.id, ...item.data, owner: item.owner, [collection.createdField]: item.created, [collection.updatedField]: item.updated };
}

const isScalar = (v: unknown): v is Scalar => v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean';
const names = (list: string | string[]) => (typeof list === 'string' ? list.split(',') : list).map((s) => s.trim()).filter((s) => s !== '');

export function compileQuery(collection: LoadedCollection, query: ItemQuery | undefined, paths: Map<string, string> = pathsOf(collection)): CompiledQuery {
  const issues: Issue[] = [];
  const known = () => [...paths.keys()].join(', ');
  const q = query ?? {};

  let conditions = 0;
  const compileFilter = (value: unknown, at: string, depth: number): Condition | null => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      issues.push({ path: at, message: 'must be an object of field conditions, _and or _or' });
      return null;
    }
    if (depth > MAX_FILTER_DEPTH) {
      issues.push({ path: at, message: `filters may nest _and/_or at most ${MAX_FILTER_DEPTH} deep` });
      return null;
    }
    const all: Condition[] = [];
    for (const [key, inner] of Object.entries(value)) {
      const here = `${at}.${key}`;
      if (key === '_and' || key === '_or') {
        if (!Array.isArray(inner) || inner.length === 0 || inner.length > 20) {
          issues.push({ path: here, message: 'must be an array of 1 to 20 filters' });
          continue;
        }
        const parts = inner.map((f, i) => compileFilter(f, `${here}.${i}`, depth + 1)).filter((c): c is Condition => c !== null);
        all.push({ kind: key === '_and' ? 'and' : 'or', all: parts });
        continue;
      }
      const path = paths.get(key);
      if (path === undefined) {
        issues.push({ path: here, message: key.startsWith('_') ? `unknown operator "${key}" here (only _and and _or combine filters; field operators: ${operatorList})` : `unknown field "${key}" (fields: ${known()})` });
        continue;
      }
      if (typeof inner !== 'object' || inner === null || Array.isArray(inner) || Object.keys(inner).length === 0) {
        issues.push({ path: here, message: `must be an object of operators (${operatorList}), e.g. {"_eq": value}` });
        continue;
      }
      for (const [opName, operand] of Object.entries(inner)) {
        const op = operators[opName];
        const where = `${here}.${opName}`;
        if (op === undefined) {
          issues.push({ path: where, message: `unknown operator "${opName}" (operators: ${operatorList})` });
          continue;
        }
        if (++conditions > MAX_FILTER_CONDITIONS) {
          issues.push({ path: where, message: `a filter may hold at most ${MAX_FILTER_CONDITIONS} conditions` });
          return null;
        }
        if (op === 'in') {
          if (!Array.isArray(operand) || operand.length === 0 || operand.length > MAX_IN_VALUES || !operand.every(isScalar)) {
            issues.push({ path: where, message: `must be an array of 1 to ${MAX_IN_VALUES} strings, numbers, booleans or nulls` });
            continue;
          }
          all.push({ kind: 'cmp', path, op, value: operand });
        } else if (op === 'contains') {
          if (typeof operand !== 'string') issues.push({ path: where, message: 'must be a string' });
          else all.push({ kind: 'cmp', path, op, value: operand });
        } else if (op === 'eq' || op === 'neq') {
          if (!isScalar(operand)) issues.push({ path: where, message: 'must be a string, number, boolean or null' });
          else all.push({ kind: 'cmp', path, op, value: operand });
        } else if (typeof operand !== 'string' && (typeof operand !== 'number' || !Number.isFinite(operand))) {
          issues.push({ path: where, message: 'must be a string or a number' });
        } else all.push({ kind: 'cmp', path, op, value: operand });
      }
    }
    if (all.length === 0) return null;
    return all.length === 1 ? (all[0] as Condition) : { kind: 'and', all };
  };
  const filter = q.filter === undefined ? null : compileFilter(q.filter, 'query.filter', 1);

  const sort: SortKey[] = [];
  for (const key of q.sort === undefined ? [] : names(q.sort)) {
    const dir = key.startsWith('-') ? -1 : 1;
    const name = key.replace(/^[-+]/, '');
    const path = paths.get(name);
    if (path === undefined) issues.push({ path: 'query.sort', message: `unknown field "${name}" (fields: ${known()})` });
    else sort.push({ path, dir });
  }
  if (sort.length > MAX_SORT_KEYS) issues.push({ path: 'query.sort', message: `at most ${MAX_SORT_KEYS} sort keys` });

  let chosen: string[] | null = null;
  if (q.fields !== undefined) {
    const list = names(q.fields);
    const picked: string[] = [];
    for (const name of list) {
      if (paths.has(name)) picked.push(name);
      else if (name !== '*') issues.push({ path: 'query.fields', message: `unknown field "${name}" (fields: *, ${known()})` });
    }
    if (!list.includes('*')) chosen = picked;
  }
  if (issues.length > 0) throw new HubError('invalid_query', `Invalid query on collection "${collection.name}"`, { issues });

  const fields = chosen;
  const project =
    fields === null
      ? (item: StoredItem) => publicItem(collection, item)
      : (item: StoredItem) => {
          const full = publicItem(collection, item);
          const out: Record<string, unknown> = {};
          for (const f of fields) if (full[f] !== undefined) out[f] = full[f];
          return out;
        };
  return {
    // Without a sort, items come in creation order (the embedded store's cheap order too).
    store: { filter, sort: sort.length > 0 ? sort : [{ path: 'created', dir: 1 }], limit: q.limit ?? DEFAULT_ITEMS_LIMIT, offset: q.offset ?? 0 },
    project,
    fieldsKey: fields === null ? '*' : fields.join(','),
  };
}
