/**
 * Collects the calls of one event-loop turn into one batch call: `login(input)` at every LOGIN
 * becomes one `loginMany(inputs)` per turn, so a login storm after an edge restart costs a gRPC
 * call and a Redis round trip per turn, not per connection. Unlike Coalescer (coalesce.ts) nothing
 * is merged: each item gets the result at its own position, or the batch's error.
 */
export class TurnBatcher<I, O> {
  private pending: { item: I; resolve: (v: O) => void; reject: (e: unknown) => void }[] = [];

  constructor(
    private readonly batch: (items: I[]) => Promise<O[]>,
    private readonly maxBatch = 500,
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ item, resolve, reject });
    });
  }

  private flush(): void {
    const all = this.pending;
    this.pending = [];
    for (let i = 0; i < all.length; i += this.maxBatch) {
      const chunk = all.slice(i, i + this.maxBatch);
      this.batch(chunk.map((c) => c.item)).then(
        (results) => {
          if (results.length !== chunk.length) {
            const err = new Error(`batch answered ${results.length} results for ${chunk.length} items`);
            for (const c of chunk) c.reject(err);
            return;
          }
          for (let k = 0; k < chunk.length; k++) chunk[k]?.resolve(results[k] as O);
        },
        (err: unknown) => {
          for (const c of chunk) c.reject(err);
        },
      );
    }
  }
}
