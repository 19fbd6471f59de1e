import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { Logger } from 'pino';
import type { NatsConnectionState } from './connection.ts';

/** Delay before a failed or ended watch is started again. */
export const WATCH_RESTART_DELAY_MS = 500;

/** Turns a stored value into the cached one. Returning undefined skips a malformed entry. */
export type KvDecoder<T> = (entry: KvWatchEntry) => T | undefined;

export type KvCacheOptions<T> = {
  kv: KV;
  /** Bucket name, for logs. */
  bucket: string;
  decode: KvDecoder<T>;
  log: Logger;
  /** When given, the watch restarts after every NATS reconnect, which also rebuilds the snapshot. */
  connection?: NatsConnectionState;
};

export function decodeJsonEntry<T>(entry: KvWatchEntry): T | undefined {
  return entry.json<T>();
}

/**
 * An in-memory copy of a KV bucket, kept current by a KV watch. Reads never wait on NATS.
 *
 * After a NATS restart the watch's consumer is gone, so the cache starts a new watch. The new watch
 * fills a fresh map from the bucket's current values and replaces the old map only once it has caught
 * up, so readers never see a half-built view and keys deleted during the outage disappear.
 */
export class KvCache<T> {
  private entries = new Map<string, T>();
  private generation = 0;
  private initializedOnce = false;
  private stopped = false;
  private readonly listeners: ((key: string, value: T | undefined) => void)[] = [];
  private initialWaiters: (() => void)[] = [];
  private currentWatch: { stop(): void } | undefined;

  constructor(private readonly options: KvCacheOptions<T>) {
    options.connection?.onReconnect(() => this.restart('reconnected'));
  }

  /** Start watching. Resolves once the cache contains the bucket's current contents. */
  async start(): Promise<void> {
    void this.runWatch(this.generation);
    if (!this.initializedOnce) {
      await new Promise<void>((resolve) => this.initialWaiters.push(resolve));
    }
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    this.currentWatch?.stop();
  }

  /** True once the first snapshot is loaded. */
  get ready(): boolean {
    return this.initializedOnce;
  }

  get(key: string): T | undefined {
    return this.entries.get(key);
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get size(): number {
    return this.entries.size;
  }

  values(): IterableIterator<T> {
    return this.entries.values();
  }

  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** Call `listener` on every change after the snapshot; `value` is undefined for a deletion. */
  onChange(listener: (key: string, value: T | undefined) => void): void {
    this.listeners.push(listener);
  }

  private restart(reason: string): void {
    if (this.stopped) {
      return;
    }
    this.options.log.info({ bucket: this.options.bucket, reason }, 'restarting KV watch');
    this.generation++;
    this.currentWatch?.stop();
    void this.runWatch(this.generation);
  }

  private markInitialized(snapshot: Map<string, T>, generation: number): void {
    if (generation !== this.generation) {
      return;
    }
    const previous = this.entries;
    this.entries = snapshot;
    if (this.initializedOnce) {
      this.notifyDifferences(previous, snapshot);
    }
    this.initializedOnce = true;
    for (const resolve of this.initialWaiters.splice(0)) {
      resolve();
    }
  }

  private notifyDifferences(previous: Map<string, T>, next: Map<string, T>): void {
    for (const [key, value] of next) {
      if (previous.get(key) !== value) {
        this.emit(key, value);
      }
    }
    for (const key of previous.keys()) {
      if (!next.has(key)) {
        this.emit(key, undefined);
      }
    }
  }

  private emit(key: string, value: T | undefined): void {
    for (const listener of this.listeners) {
      try {
        listener(key, value);
      } catch (error) {
        this.options.log.error({ err: error, key }, 'KV cache listener failed');
      }
    }
  }

  private apply(target: Map<string, T>, entry: KvWatchEntry, live: boolean): void {
    if (entry.operation === 'DEL' || entry.operation === 'PURGE') {
      target.delete(entry.key);
      if (live) {
        this.emit(entry.key, undefined);
      }
      return;
    }

    let value: T | undefined;
    try {
      value = this.options.decode(entry);
    } catch (error) {
      this.options.log.warn({ err: error, key: entry.key }, 'skipping KV entry that cannot be decoded');
    }
    if (value === undefined) {
      target.delete(entry.key);
      return;
    }
    target.set(entry.key, value);
    if (live) {
      this.emit(entry.key, value);
    }
  }

  private async runWatch(generation: number): Promise<void> {
    const { kv, log, bucket } = this.options;
    const snapshot = new Map<string, T>();
    let caughtUp = false;

    try {
      const empty = (await kv.status()).values === 0;
      const watch = await kv.watch();
      this.currentWatch = watch;
      if (generation !== this.generation) {
        watch.stop();
        return;
      }
      if (empty) {
        caughtUp = true;
        this.markInitialized(snapshot, generation);
      }

      for await (const entry of watch) {
        if (generation !== this.generation) {
          break;
        }
        if (caughtUp) {
          this.apply(this.entries, entry, true);
          continue;
        }
        this.apply(snapshot, entry, false);
        if (entry.isUpdate || entry.delta === 0) {
          caughtUp = true;
          this.markInitialized(snapshot, generation);
        }
      }
    } catch (error) {
      log.warn({ err: error, bucket }, 'KV watch failed');
    }

    if (this.stopped || generation !== this.generation) {
      return;
    }
    // The watch ended on its own, for example after the server restarted. Start a fresh one.
    setTimeout(() => this.restart('watch ended'), WATCH_RESTART_DELAY_MS).unref();
  }
}
