/** A value with the time, in epoch milliseconds, after which it must not be used. */
export type Expiring<T> = { value: T; expiresAt: number };

/**
 * Caches values that are expensive to fetch, such as OAuth and CSRF tokens. Concurrent `get` calls
 * for a missing key share one fetch, and a failed fetch is not cached.
 */
export class SingleFlightCache<T> {
  private readonly values = new Map<string, Expiring<T>>();
  private readonly pending = new Map<string, Promise<T>>();

  /** `now` returns epoch milliseconds; tests pass a pinned clock. */
  constructor(private readonly now: () => number = Date.now) {}

  /** Return the cached value for `key`, or fetch it with `load` once however many callers wait. */
  get(key: string, load: () => Promise<Expiring<T>>): Promise<T> {
    const cached = this.values.get(key);
    if (cached !== undefined && cached.expiresAt > this.now()) {
      return Promise.resolve(cached.value);
    }

    let fetching = this.pending.get(key);
    if (fetching === undefined) {
      fetching = load()
        .then((fetched) => {
          this.values.set(key, fetched);
          return fetched.value;
        })
        .finally(() => this.pending.delete(key));
      this.pending.set(key, fetching);
    }
    return fetching;
  }

  /** Drop the cached value of `key` if it is still `value`, so a newer value fetched meanwhile survives. */
  invalidate(key: string, value: T): void {
    if (this.values.get(key)?.value === value) {
      this.values.delete(key);
    }
  }

  /** Drop the value of `key`, whatever it is. */
  delete(key: string): void {
    this.values.delete(key);
  }
}
