import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { CredentialsCipher } from '../../shared/crypto/credentials-cipher.ts';
import { ConflictError, InputError, NotFoundError } from '../../shared/errors/errors.ts';
import type { ApiCredentials, ServiceRecord } from '../../shared/model/service-record.ts';
import type { ClientCertificateIssuer } from './adapters/client-certificate.ts';
import { identifierReservationKey, nameReservationKey, type NameReservations } from './adapters/name-reservations.ts';
import type { ServiceStore, StoredService } from './adapters/service-store.ts';
import type { SpecFetcher } from './adapters/spec-fetcher.ts';
import type { SpecStore, StoredSpec } from './adapters/spec-store.ts';
import { deduplicateEvents, type CatalogEvent } from './domain/event-catalog.ts';
import type { ServiceInput } from './domain/service-input.ts';
import { assertServiceRules, toStoredLabels } from './domain/service-rules.ts';
import type { RegistryValidators } from './domain/service-schema.ts';
import { toServiceDetails, toServiceSummary, type ServiceDetails, type ServiceSummary } from './domain/service-view.ts';
import { assertValid } from './domain/validation.ts';
import { credentialTypeOf, toApiCredentials } from './service-credentials.ts';
import { prepareSpecs, storeSpecs, type StoredSpecNames } from './service-specs.ts';

export type ServiceRegistryDependencies = {
  services: ServiceStore;
  reservations: NameReservations;
  specs: SpecStore;
  fetcher: SpecFetcher;
  cipher: CredentialsCipher;
  certificates: ClientCertificateIssuer;
  validators: RegistryValidators;
  log: Logger;
  now?: () => Date;
};

/** Kind of spec that `readSpec` returns. */
export type SpecKind = 'api' | 'events';

/** Reservation keys that a record holds: its normalized name and, when set, its identifier. */
function claimsOf(record: Pick<ServiceRecord, 'application' | 'normalizedName' | 'identifier'> | undefined): string[] {
  if (record === undefined) {
    return [];
  }
  const claims = [nameReservationKey(record.application, record.normalizedName)];
  if (record.identifier !== undefined) {
    claims.push(identifierReservationKey(record.application, record.identifier));
  }
  return claims;
}

function objectsOf(record: ServiceRecord | undefined): (string | undefined)[] {
  return [record?.api?.specObject, record?.events?.specObject, record?.events?.catalogObject];
}

/** Registers, reads, updates and deletes the services of applications, with their specs and credentials. */
export class ServiceRegistry {
  private readonly now: () => Date;

  constructor(private readonly deps: ServiceRegistryDependencies) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Register a service and return its new id. */
  async create(application: string, body: unknown): Promise<string> {
    const id = randomUUID();
    const record = await this.write(application, id, body, undefined);
    this.deps.log.info({ app: application, service: id, name: record.name }, 'service registered');
    return id;
  }

  /** Replace a service. Throws `NotFoundError` for an unknown id and `ConflictError` after a concurrent change. */
  async update(application: string, id: string, body: unknown): Promise<void> {
    const current = await this.deps.services.get(application, id);
    if (current === undefined) {
      throw new NotFoundError(`service '${id}' of application '${application}' not found`);
    }
    await this.write(application, id, body, current);
    this.deps.log.info({ app: application, service: id }, 'service updated');
  }

  async list(application: string): Promise<ServiceSummary[]> {
    return (await this.deps.services.list(application)).map(({ record }) => toServiceSummary(record));
  }

  /** Read one service with its secrets masked, and with its specs when `withSpecs` is set. */
  async get(application: string, id: string, options: { withSpecs: boolean }): Promise<ServiceDetails> {
    const { record } = await this.getStored(application, id);
    const credentials = record.api?.credentials ? this.deps.cipher.decryptJson<ApiCredentials>(record.api.credentials) : undefined;
    if (!options.withSpecs) {
      return toServiceDetails(record, { credentials });
    }

    const [apiSpec, eventsSpec] = await Promise.all([this.loadSpec(record.api?.specObject), this.loadSpec(record.events?.specObject)]);
    return toServiceDetails(record, { credentials, apiSpec: apiSpec?.content, eventsSpec: eventsSpec?.content });
  }

  /** Read the stored API or events spec of a service. Throws `NotFoundError` when there is none. */
  async readSpec(application: string, id: string, kind: SpecKind): Promise<StoredSpec> {
    const { record } = await this.getStored(application, id);
    const spec = await this.loadSpec(kind === 'api' ? record.api?.specObject : record.events?.specObject);
    if (spec === undefined) {
      throw new NotFoundError(`service '${id}' of application '${application}' has no ${kind} spec`);
    }
    return spec;
  }

  /** Delete a service, its specs and its name reservations. */
  async delete(application: string, id: string): Promise<void> {
    const stored = await this.getStored(application, id);
    await this.remove(stored);
    this.deps.log.info({ app: application, service: id }, 'service deleted');
  }

  /** Delete every service of an application. */
  async deleteAll(application: string): Promise<number> {
    const services = await this.deps.services.list(application);
    for (const stored of services) {
      await this.remove(stored).catch(async (error: unknown) => {
        // A concurrent update changed the revision; delete what is there now.
        if (!(error instanceof ConflictError)) {
          throw error;
        }
        const latest = await this.deps.services.get(application, stored.record.id);
        if (latest) {
          await this.remove(latest);
        }
      });
    }
    return services.length;
  }

  /** Collect the application's event catalog: every event of every registered AsyncAPI spec. */
  async catalog(application: string): Promise<CatalogEvent[]> {
    const events: CatalogEvent[] = [];
    for (const { record } of await this.deps.services.list(application)) {
      if (record.events?.catalogObject !== undefined) {
        events.push(...(await this.deps.specs.getCatalog(record.events.catalogObject)));
      }
    }
    return deduplicateEvents(events);
  }

  private async getStored(application: string, id: string): Promise<StoredService> {
    const stored = await this.deps.services.get(application, id);
    if (stored === undefined) {
      throw new NotFoundError(`service '${id}' of application '${application}' not found`);
    }
    return stored;
  }

  private async loadSpec(name: string | undefined): Promise<StoredSpec | undefined> {
    return name === undefined ? undefined : this.deps.specs.getSpec(name);
  }

  private async remove(stored: StoredService): Promise<void> {
    const { record, revision } = stored;
    await this.deps.services.delete(record.application, record.id, revision);
    for (const claim of claimsOf(record)) {
      await this.deps.reservations.release(claim, record.id);
    }
    await this.deps.specs.deleteAll(objectsOf(record));
  }

  /**
   * Validate, fetch specs, claim the name and identifier, store the specs under fresh object names
   * and then the record. The record write is the commit point: when it fails, the claims and
   * objects of this write are released again.
   */
  private async write(application: string, id: string, body: unknown, current: StoredService | undefined): Promise<ServiceRecord> {
    assertValid(this.deps.validators.service, body);
    const input: ServiceInput = body;
    const normalizedName = assertServiceRules(input);

    const previousCredentials = current?.record.api?.credentials
      ? this.deps.cipher.decryptJson<ApiCredentials>(current.record.api.credentials)
      : undefined;
    const specs = await prepareSpecs(input, this.deps.fetcher);
    const credentials = await toApiCredentials(input.api?.credentials, previousCredentials, this.deps.certificates);

    await this.claim(application, id, { application, normalizedName, identifier: input.identifier }, input.name);
    let names: StoredSpecNames = {};
    try {
      names = await storeSpecs(this.deps.specs, application, id, randomBytes(6).toString('hex'), specs);
      const record = this.toRecord(application, id, input, { normalizedName, credentials, names, current });
      if (current === undefined) {
        await this.deps.services.create(record);
      } else {
        await this.deps.services.update(record, current.revision);
        await this.deps.specs.deleteAll(objectsOf(current.record));
      }
      await this.releaseUnusedClaims(application, id, claimsOf(current?.record));
      return record;
    } catch (error) {
      await this.deps.specs.deleteAll([names.api, names.events, names.catalog]);
      await this.releaseUnusedClaims(application, id, claimsOf({ application, normalizedName, identifier: input.identifier }));
      throw error;
    }
  }

  private async claim(
    application: string,
    id: string,
    wanted: Pick<ServiceRecord, 'application' | 'normalizedName' | 'identifier'>,
    name: string,
  ): Promise<void> {
    const ownerExists = async (ownerId: string): Promise<boolean> => (await this.deps.services.get(application, ownerId)) !== undefined;

    const nameKey = nameReservationKey(application, wanted.normalizedName);
    const nameHolder = await this.deps.reservations.reserve(nameKey, id, ownerExists);
    if (nameHolder !== undefined) {
      throw new InputError(
        `name '${name.slice(0, 100)}' normalizes to '${wanted.normalizedName}', which another service of application '${application}' already uses`,
      );
    }

    if (wanted.identifier === undefined) {
      return;
    }
    const identifierHolder = await this.deps.reservations.reserve(identifierReservationKey(application, wanted.identifier), id, ownerExists);
    if (identifierHolder !== undefined) {
      await this.releaseUnusedClaims(application, id, [nameKey]);
      throw new ConflictError(`identifier '${wanted.identifier.slice(0, 100)}' is already used by another service of application '${application}'`);
    }
  }

  /** Release those of `candidates` that the service's stored record does not hold, after any write outcome. */
  private async releaseUnusedClaims(application: string, id: string, candidates: readonly string[]): Promise<void> {
    const stored = await this.deps.services.get(application, id);
    const held = new Set(claimsOf(stored?.record));
    for (const claim of candidates) {
      if (!held.has(claim)) {
        await this.deps.reservations.release(claim, id);
      }
    }
  }

  private toRecord(
    application: string,
    id: string,
    input: ServiceInput,
    parts: { normalizedName: string; credentials: ApiCredentials | undefined; names: StoredSpecNames; current: StoredService | undefined },
  ): ServiceRecord {
    const now = this.now().toISOString();
    const record: ServiceRecord = {
      id,
      application,
      provider: input.provider,
      name: input.name,
      normalizedName: parts.normalizedName,
      description: input.description,
      labels: toStoredLabels(application, input.labels),
      createdAt: parts.current?.record.createdAt ?? now,
      updatedAt: now,
    };
    if (input.shortDescription !== undefined) record.shortDescription = input.shortDescription;
    if (input.identifier !== undefined) record.identifier = input.identifier;
    if (input.documentation !== undefined) record.documentation = input.documentation;

    if (input.api) {
      const { targetUrl, apiType, specificationUrl, requestParameters } = input.api;
      record.api = { targetUrl };
      if (apiType !== undefined) record.api.apiType = apiType;
      if (specificationUrl !== undefined) record.api.specificationUrl = specificationUrl;
      if (requestParameters !== undefined) record.api.requestParameters = requestParameters;
      if (parts.credentials) {
        record.api.credentials = this.deps.cipher.encryptJson(parts.credentials);
        record.api.credentialType = credentialTypeOf(parts.credentials);
      }
      if (parts.names.api !== undefined) record.api.specObject = parts.names.api;
    }
    if (input.events) {
      record.events = {};
      if (parts.names.events !== undefined) record.events.specObject = parts.names.events;
      if (parts.names.catalog !== undefined) record.events.catalogObject = parts.names.catalog;
    }
    return record;
  }
}
