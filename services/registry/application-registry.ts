import type { Logger } from 'pino';
import { NotFoundError } from '../../shared/errors/errors.ts';
import type { ApplicationRecord } from '../../shared/model/service-record.ts';
import type { ApplicationStore } from './adapters/application-store.ts';
import { assertApplicationName } from './domain/service-rules.ts';
import type { RegistryValidators } from './domain/service-schema.ts';
import { assertValid } from './domain/validation.ts';
import type { ServiceRegistry } from './service-registry.ts';

/** Creates, reads and deletes applications. Deleting one removes its services and revokes its certificates. */
export class ApplicationRegistry {
  constructor(
    private readonly store: ApplicationStore,
    private readonly services: ServiceRegistry,
    private readonly validators: RegistryValidators,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(body: unknown): Promise<ApplicationRecord> {
    assertValid(this.validators.application, body);
    assertApplicationName(body.name);

    const record: ApplicationRecord = {
      name: body.name,
      ...(body.description === undefined ? {} : { description: body.description }),
      labels: body.labels ?? {},
      createdAt: this.now().toISOString(),
    };
    await this.store.create(record);
    this.log.info({ app: record.name }, 'application created');
    return record;
  }

  list(): Promise<ApplicationRecord[]> {
    return this.store.list();
  }

  async get(name: string): Promise<ApplicationRecord> {
    const record = await this.store.get(name);
    if (record === undefined) {
      throw new NotFoundError(`application '${name}' not found`);
    }
    return record;
  }

  /**
   * Delete an application. Its certificates are revoked first, so the external system loses access
   * before its services disappear; then its services and specs go, and the record last.
   */
  async delete(name: string): Promise<void> {
    await this.get(name);

    // NOTE: a service registered by a request that passed the mTLS check just before the revocation
    // and commits after `deleteAll` listed the services stays behind as an orphan record.
    await this.store.revokeCertificates(name, this.now(), 'application deleted');
    const services = await this.services.deleteAll(name);
    await this.store.delete(name);
    this.log.info({ app: name, services }, 'application deleted');
  }
}
