import { defineWalker, z } from 'walker-hub';

/**
 * Sends a Directual-style `alert` frame (a toast) to one channel, or to the calling socket when no
 * channel is given: `{"type":"alert","data":{"message","parameters":{"position","duration","icon"}}}`.
 */
export default defineWalker({
  input: z.object({
    message: z.string().min(1).max(500),
    channel_id: z.string().min(1).max(256).optional(),
    position: z.enum(['top-left', 'top-center', 'top-right', 'bottom-left', 'bottom-center', 'bottom-right']).default('top-right'),
    /** How long the toast stays, ms. */
    duration: z.number().int().min(500).max(60_000).default(4000),
    icon: z.string().max(16).optional(),
  }),
  methods: ['websocket', 'post'],
  run(ctx, { message, channel_id, position, duration, icon }) {
    const alert = { type: 'alert', data: { message, parameters: { position, duration, ...(icon !== undefined ? { icon } : {}) } } };
    if (channel_id !== undefined) ctx.notifyChannels([channel_id], alert);
    else ctx.self(alert);
    ctx.report({ sent: channel_id ?? 'self' });
  },
});
