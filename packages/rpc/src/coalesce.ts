/**
 * Turns many single-key calls made in one event-loop turn into one batch call: `head(userId)` at
 * every LOGIN becomes one `heads(userIds)` per turn (a login storm after an edge restart costs a
 * few round trips, not one per connection). Each caller gets its own value, or the batch's error.
 */
export class Coalescer<K, V> {
  private pending = new Map<K, { resolve: (v: V) => void; reject: (e: unknown) => void }[]>();
  private scheduled = false;

  constructor(
    private readonly batch: (keys: K[]) => Promise<Map<K, V>>,
    /** The value of a key the batch left out. */
    private readonly missing: V,
    private readonly maxBatch = 1000,
  ) {}

  get(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      const waiters = this.pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const all = this.pending;
    this.pending = new Map();
    const keys = [...all.keys()];
    for (let i = 0; i < keys.length; i += this.maxBatch) {
      const chunk = keys.slice(i, i + this.maxBatch);
      this.batch(chunk).then(
        (values) => {
          for (const k of chunk) for (const w of all.get(k) ?? []) w.resolve(values.get(k) ?? this.missing);
        },
        (err) => {
          for (const k of chunk) for (const w of all.get(k) ?? []) w.reject(err);
        },
      );
    }
  }
}
