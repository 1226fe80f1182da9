/**
 * A minimal typed event emitter, so the SDK core does not depend on node:events. Unlike Node's
 * EventEmitter, an `error` event without listeners is not thrown; a throwing listener does not stop
 * the others (its error is re-thrown asynchronously, like an uncaught exception).
 */
export type EventMap<E> = { [K in keyof E]: unknown[] };
type Listener<A extends unknown[]> = (...args: A) => void;
type AnyListener = (...args: unknown[]) => void;

export class TypedEmitter<E extends EventMap<E>> {
  private readonly listeners = new Map<keyof E, Set<AnyListener>>();

  on<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as unknown as AnyListener);
    return this;
  }

  once<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    const wrapped: Listener<E[K]> = (...args) => {
      this.off(event, wrapped);
      listener(...args);
    };
    return this.on(event, wrapped);
  }

  off<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    this.listeners.get(event)?.delete(listener as unknown as AnyListener);
    return this;
  }

  listenerCount<K extends keyof E>(event: K): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
