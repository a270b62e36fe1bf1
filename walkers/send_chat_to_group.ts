import { defineWalker, z } from 'walker-hub';

/** Sends a chat message to every connection in one channel (seed: jac-cloud's send_chat_to_group). */
export default defineWalker({
  input: z.object({
    channel_id: z.string().min(1),
    message: z.string().max(4096).default('string'),
  }),
  methods: ['websocket', 'post'],
  run(ctx, { channel_id, message }) {
    ctx.notifyChannels([channel_id], { type: 'chat', data: { message } });
  },
});
