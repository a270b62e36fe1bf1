/**
 * The `ctx.signal` a walker gets. Node reports an exception thrown by an EventTarget listener
 * (or a promise rejected by an async one) as an uncaught exception, which ends the process, and
 * a walker's abort listeners run inside the runner's `abort()` (on timeout or when the caller's
 * socket closes). So listeners added through this signal (`addEventListener`, `onabort`, and
 * `events.once`, which uses `addEventListener`) are wrapped to hand their failures to `onError`.
 * A signal derived from it (`AbortSignal.any`) is the walker's own and is not covered.
 */
type EventListener = (event: Event) => unknown;
type Listener = EventListener | { handleEvent(event: Event): unknown };
type AddOptions = Parameters<AbortSignal['addEventListener']>[2];
type RemoveOptions = Parameters<AbortSignal['removeEventListener']>[2];

export function guardedSignal(signal: AbortSignal, onError: (err: unknown) => void): AbortSignal {
  const wrappers = new WeakMap<Listener, EventListener>();
  const guard = (listener: Listener): EventListener => {
    let wrapper = wrappers.get(listener);
    if (wrapper === undefined) {
      wrapper = function (this: unknown, event: Event) {
        try {
          const result: unknown = typeof listener === 'function' ? listener.call(this, event) : listener.handleEvent(event);
          if (result instanceof Promise) result.then(undefined, onError);
        } catch (err) {
          onError(err);
        }
      };
      wrappers.set(listener, wrapper);
    }
    return wrapper;
  };
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  const onabort = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'onabort');
  let handler: AbortSignal['onabort'] = null;
  Object.defineProperties(signal, {
    addEventListener: {
      // A null listener is a no-op for EventTarget; it is dropped here the same way.
      value: (type: string, listener: Listener | null, options?: AddOptions) => {
        if (listener !== null) add(type, guard(listener), options);
      },
    },
    removeEventListener: {
      value: (type: string, listener: Listener | null, options?: RemoveOptions) => {
        if (listener !== null) remove(type, wrappers.get(listener) ?? listener, options);
      },
    },
    onabort: {
      get: () => handler,
      set: (fn: AbortSignal['onabort']) => {
        handler = typeof fn === 'function' ? fn : null;
        onabort?.set?.call(signal, handler === null ? null : guard(handler as EventListener));
      },
    },
  });
  return signal;
}
