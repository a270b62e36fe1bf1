/** Listeners by frame type, plus catch-all listeners; a throwing listener does not stop the others. */

export type Listener<T> = (value: T) => void;
export type AnyListener<F> = (type: string, frame: F) => void;

export class Emitter<F> {
  private readonly byType = new Map<string, Set<Listener<F>>>();
  private readonly any = new Set<AnyListener<F>>();

  constructor(private readonly onListenerError: (err: unknown) => void) {}

  on(type: string, fn: Listener<F>): void {
    let set = this.byType.get(type);
    if (!set) this.byType.set(type, (set = new Set()));
    set.add(fn);
  }

  off(type: string, fn?: Listener<F>): void {
    if (fn === undefined) this.byType.delete(type);
    else this.byType.get(type)?.delete(fn);
  }

  onAny(fn: AnyListener<F>): void {
    this.any.add(fn);
  }

  offAny(fn?: AnyListener<F>): void {
    if (fn === undefined) this.any.clear();
    else this.any.delete(fn);
  }

  /** Typed listeners first, then catch-alls, each in the order added. */
  emit(type: string, frame: F, toAny = true): void {
    for (const fn of [...(this.byType.get(type) ?? [])]) this.call(() => fn(frame));
    if (toAny) this.emitAny(type, frame);
  }

  emitAny(type: string, frame: F): void {
    for (const fn of [...this.any]) this.call(() => fn(type, frame));
  }

  private call(run: () => void): void {
    try {
      run();
    } catch (err) {
      // One broken listener (user code) must not cost the others their frame, nor kill the socket handler.
      this.onListenerError(err);
    }
  }
}
