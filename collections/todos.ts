/**
 * A shared todo list (the demo page's live list): anyone may watch it; signed-in users add, tick
 * and remove items.
 */
import { defineCollection, z } from 'walker-hub';

export default defineCollection({
  schema: z.object({
    text: z.string().trim().min(1).max(200),
    done: z.boolean().default(false),
  }),
  access: { read: 'public', create: 'authenticated', update: 'authenticated', delete: 'authenticated' },
});
