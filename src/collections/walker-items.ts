/** `ctx.items(C)` for walkers: the collections service as the server, owning what it creates as the caller's root. */
import type { WalkerItems } from '../walkers/define.js';
import type { Actor, Collections } from './collections.js';

export function walkerItems(collections: Collections, collection: string, owner: string): WalkerItems {
  // Checked now, so a walker naming an unknown collection fails at the call, not at first use.
  collections.get(collection);
  const actor: Actor = { identity: null, owner };
  const create = async (data: Record<string, unknown> | Array<Record<string, unknown>>) => {
    const created = await collections.create(collection, actor, data);
    return Array.isArray(data) ? created : created[0];
  };
  return {
    create: create as WalkerItems['create'],
    read: (query) => collections.read(collection, actor, query),
    get: (id) => collections.readOne(collection, actor, id),
    update: async (id, data) => (await collections.update(collection, actor, [id], data))[0] as Record<string, unknown>,
    delete: (ids) => collections.delete(collection, actor, typeof ids === 'string' ? [ids] : [...ids]),
  };
}
