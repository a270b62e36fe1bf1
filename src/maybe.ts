/** Values that are ready now or later: hot paths stay synchronous when the work was synchronous. */
export type MaybePromise<T> = T | Promise<T>;

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** Calls `next` with the value now if it is ready, else when it resolves. */
export function whenReady<T, R>(value: MaybePromise<T>, next: (ready: T) => R): MaybePromise<R> {
  return value instanceof Promise ? value.then(next) : next(value as T);
}
