import { InputError } from '../../shared/errors/errors.ts';
import type { SpecFetcher } from './adapters/spec-fetcher.ts';
import { specSourceUrl } from './adapters/spec-fetcher.ts';
import { specObjectNames, type SpecStore } from './adapters/spec-store.ts';
import { deriveEventCatalog, type CatalogEvent } from './domain/event-catalog.ts';
import type { ServiceInput } from './domain/service-input.ts';
import { detectJsonFormat, isAsyncApiFormat, type ParsedSpec } from './domain/spec-format.ts';

/** The specs of one service write, before they are stored. */
export type PreparedSpecs = { api?: ParsedSpec; events?: ParsedSpec; catalog?: CatalogEvent[] };

/** Object names of stored specs, as they go into the service record. */
export type StoredSpecNames = { api?: string; events?: string; catalog?: string };

/**
 * Collect a service's specs: inline ones as given, otherwise the API spec from `specificationUrl`
 * or OData `$metadata`. The events spec must be AsyncAPI 1.x or 2.x, and its catalog is derived here
 * so reads of the catalog never parse specs.
 */
export async function prepareSpecs(input: ServiceInput, fetcher: SpecFetcher): Promise<PreparedSpecs> {
  const prepared: PreparedSpecs = {};

  if (input.api?.spec !== undefined) {
    prepared.api = { format: detectJsonFormat(input.api.spec), document: input.api.spec };
  } else if (input.api !== undefined) {
    const source = specSourceUrl(input.api);
    if (source !== undefined) {
      prepared.api = await fetcher.fetch(source, input.api);
    }
  }

  const eventsSpec = input.events?.spec;
  if (eventsSpec !== undefined) {
    const format = detectJsonFormat(eventsSpec);
    if (!isAsyncApiFormat(format)) {
      const version = typeof eventsSpec.asyncapi === 'string' ? `'${eventsSpec.asyncapi.slice(0, 40)}'` : 'no asyncapi field';
      throw new InputError(`events.spec must be an AsyncAPI 1.x or 2.x document, got ${version}`);
    }
    prepared.events = { format, document: eventsSpec };
    prepared.catalog = deriveEventCatalog(format, eventsSpec);
  }
  return prepared;
}

/** Store prepared specs under fresh object names for this write. */
export async function storeSpecs(
  store: SpecStore,
  application: string,
  serviceId: string,
  revision: string,
  specs: PreparedSpecs,
): Promise<StoredSpecNames> {
  const names = specObjectNames(application, serviceId, revision);
  const stored: StoredSpecNames = {};

  if (specs.api) {
    await store.putSpec(names.api, specs.api);
    stored.api = names.api;
  }
  if (specs.events) {
    await store.putSpec(names.events, specs.events);
    stored.events = names.events;
  }
  if (specs.catalog) {
    await store.putCatalog(names.catalog, specs.catalog);
    stored.catalog = names.catalog;
  }
  return stored;
}
