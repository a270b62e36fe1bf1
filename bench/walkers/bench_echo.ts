import { defineWalker, z } from 'walker-hub';

/** The REST scenario's walker: validates a small object and reports it back. */
export default defineWalker({
  input: z.object({
    user: z.string().min(1).max(64),
    room: z.string().min(1).max(64),
    seq: z.number().int().nonnegative(),
    text: z.string().max(280),
  }),
  auth: false,
  methods: ['post', 'websocket'],
  run(ctx, input) {
    ctx.report(input);
  },
});
