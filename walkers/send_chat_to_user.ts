import { defineWalker, z } from 'walker-hub';

/** Sends a chat message to every connection of one user (seed: jac-cloud's send_chat_to_user). */
export default defineWalker({
  input: z.object({
    root_id: z.string().min(1),
    message: z.string().max(4096).default('string'),
  }),
  methods: ['websocket', 'post'],
  run(ctx, { root_id, message }) {
    ctx.notifyUsers([root_id], { type: 'chat', data: { message } });
  },
});
