import { defineWalker, z } from 'walker-hub';

/** Sends a chat message to one connection (seed: jac-cloud's send_chat_to_client). */
export default defineWalker({
  input: z.object({
    client_id: z.string().min(1),
    message: z.string().max(4096).default('string'),
  }),
  methods: ['websocket', 'post'],
  run(ctx, { client_id, message }) {
    ctx.notifyClients([client_id], { type: 'chat', data: { message } });
  },
});
