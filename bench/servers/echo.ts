/**
 * The bench_echo input check the comparison servers do by hand, the same rules as
 * bench/walkers/bench_echo.ts's zod schema, so every server does the same validation work.
 */
export interface Echo {
  user: string;
  room: string;
  seq: number;
  text: string;
}

export function isEcho(v: unknown): v is Echo {
  const o = v as Partial<Echo> | null;
  return typeof o === 'object' && o !== null && typeof o.user === 'string' && o.user.length >= 1 && o.user.length <= 64
    && typeof o.room === 'string' && o.room.length >= 1 && o.room.length <= 64
    && Number.isInteger(o.seq) && (o.seq as number) >= 0 && typeof o.text === 'string' && o.text.length <= 280;
}
