import type { KV } from '@nats-io/kv';
import { ConflictError } from '../../../shared/errors/errors.ts';
import type { ApplicationRecord } from '../../../shared/model/service-record.ts';
import { applicationRevocationKey, type RevocationRecord } from '../../../shared/nats/identity-directory.ts';
import { isWrongRevision } from './kv-errors.ts';

/** Application records in `ferry-applications` and application-wide revocations in `ferry-revocations`. */
export class ApplicationStore {
  constructor(
    private readonly applications: KV,
    private readonly revocations: KV,
  ) {}

  /** Store a new application. Throws `ConflictError` when the name is taken, also when two requests race. */
  async create(record: ApplicationRecord): Promise<void> {
    try {
      await this.applications.create(record.name, JSON.stringify(record));
    } catch (error) {
      if (isWrongRevision(error)) {
        throw new ConflictError(`application '${record.name}' already exists`, { cause: error });
      }
      throw error;
    }
  }

  async get(name: string): Promise<ApplicationRecord | undefined> {
    const entry = await this.applications.get(name);
    return entry === null || entry.operation !== 'PUT' ? undefined : entry.json<ApplicationRecord>();
  }

  /** List every application, sorted by name. */
  async list(): Promise<ApplicationRecord[]> {
    const names: string[] = [];
    for await (const key of await this.applications.keys()) {
      names.push(key);
    }
    names.sort();

    const records: ApplicationRecord[] = [];
    for (const name of names) {
      const record = await this.get(name);
      if (record) {
        records.push(record);
      }
    }
    return records;
  }

  async delete(name: string): Promise<void> {
    await this.applications.delete(name);
  }

  /**
   * Revoke every certificate of the application issued up to `revokedAt`, on every service, by
   * writing the `app.<name>` cut-off record that the connector and every mTLS route watch.
   */
  async revokeCertificates(name: string, revokedAt: Date, reason: string): Promise<void> {
    const record: RevocationRecord = { application: name, revokedAt: revokedAt.toISOString(), reason };
    await this.revocations.put(applicationRevocationKey(name), JSON.stringify(record));
  }
}
