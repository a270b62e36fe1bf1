/** Collections the collections tests share: one per access pattern. */
import { z } from 'zod';
import { defineCollection } from '../src/collections/define.js';
import { collectionsFrom } from '../src/collections/loader.js';

export const testCollections = () =>
  collectionsFrom({
    // Each user sees and changes only their own notes.
    notes: defineCollection({
      schema: z.object({ title: z.string().min(1).max(100), n: z.number().int().optional(), tag: z.string().optional() }),
      access: { read: 'owner', create: 'authenticated', update: 'owner', delete: 'owner' },
      indexes: ['tag'],
    }),
    // Anyone reads; signed-in users post; authors edit; nobody deletes over the socket.
    posts: defineCollection({
      schema: z.object({ body: z.string().max(500) }),
      access: { read: 'public', create: 'authenticated', update: 'owner', delete: 'none' },
    }),
    // A shared list anyone may change.
    todos: defineCollection({
      schema: z.object({ text: z.string().min(1).max(200), done: z.boolean().default(false) }),
      access: { read: 'public', create: 'public', update: 'public', delete: 'public' },
    }),
    // Server-only.
    audit: defineCollection({ schema: z.object({ what: z.string() }), access: {} }),
  });
