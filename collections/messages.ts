/**
 * Chat messages, as in Directus' "Getting Started With WebSockets": `text` and `user`, with
 * `date_created` (kept by the hub) to sort by. Anyone signed in may read and post; only the author
 * may edit or delete a message.
 */
import { defineCollection, z } from 'walker-hub';

export default defineCollection({
  schema: z.object({
    text: z.string().min(1).max(2000),
    user: z.string().min(1).max(100),
  }),
  access: { read: 'authenticated', create: 'authenticated', update: 'owner', delete: 'owner' },
  timestamps: { created: 'date_created', updated: 'date_updated' },
  indexes: ['user'],
});
