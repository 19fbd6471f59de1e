import type { KV } from '@nats-io/kv';
import { ConflictError } from '../../../shared/errors/errors.ts';
import { serviceKey, type ServiceRecord } from '../../../shared/model/service-record.ts';
import { isWrongRevision } from './kv-errors.ts';

export type StoredService = { record: ServiceRecord; revision: number };

/** Service records in the `ferry-services` bucket, under `<application>.<id>`. */
export class ServiceStore {
  constructor(private readonly kv: KV) {}

  async get(application: string, id: string): Promise<StoredService | undefined> {
    const entry = await this.kv.get(serviceKey(application, id));
    if (entry === null || entry.operation !== 'PUT') {
      return undefined;
    }
    return { record: entry.json<ServiceRecord>(), revision: entry.revision };
  }

  /** List every service of an application, in key order. */
  async list(application: string): Promise<StoredService[]> {
    const keys: string[] = [];
    for await (const key of await this.kv.keys(serviceKey(application, '*'))) {
      keys.push(key);
    }
    keys.sort();

    const services: StoredService[] = [];
    for (const key of keys) {
      const id = key.slice(application.length + 1);
      const service = await this.get(application, id);
      if (service) {
        services.push(service);
      }
    }
    return services;
  }

  /** Store a new record. Throws `ConflictError` when the key exists. */
  async create(record: ServiceRecord): Promise<void> {
    try {
      await this.kv.create(serviceKey(record.application, record.id), JSON.stringify(record));
    } catch (error) {
      if (isWrongRevision(error)) {
        throw new ConflictError(`service '${record.id}' already exists`, { cause: error });
      }
      throw error;
    }
  }

  /** Replace a record if it is still at `revision`. Throws `ConflictError` after a concurrent change. */
  async update(record: ServiceRecord, revision: number): Promise<void> {
    try {
      await this.kv.update(serviceKey(record.application, record.id), JSON.stringify(record), revision);
    } catch (error) {
      if (isWrongRevision(error)) {
        throw new ConflictError(`service '${record.id}' was changed by another request, read it again and retry`, { cause: error });
      }
      throw error;
    }
  }

  /** Delete a record if it is still at `revision`. Throws `ConflictError` after a concurrent change. */
  async delete(application: string, id: string, revision: number): Promise<void> {
    try {
      await this.kv.delete(serviceKey(application, id), { previousSeq: revision });
    } catch (error) {
      if (isWrongRevision(error)) {
        throw new ConflictError(`service '${id}' was changed by another request, retry the deletion`, { cause: error });
      }
      throw error;
    }
  }
}
