import { InputError, NotFoundError } from '../../shared/errors/errors.ts';
import type { ServiceRecord } from '../../shared/model/service-record.ts';
import { quoteValue } from './gateway-path.ts';

/** A service that has an API, so the gateway can forward to it. */
export type RoutableService = ServiceRecord & { api: NonNullable<ServiceRecord['api']> };

/** Services by application, then by normalized name. A name normally maps to one record. */
export type ServiceIndex = ReadonlyMap<string, ReadonlyMap<string, readonly ServiceRecord[]>>;

/** Index records by (application, normalizedName). */
export function buildServiceIndex(records: Iterable<ServiceRecord>): ServiceIndex {
  const index = new Map<string, Map<string, ServiceRecord[]>>();
  for (const record of records) {
    let byName = index.get(record.application);
    if (byName === undefined) {
      byName = new Map();
      index.set(record.application, byName);
    }
    const named = byName.get(record.normalizedName);
    if (named === undefined) {
      byName.set(record.normalizedName, [record]);
    } else {
      named.push(record);
    }
  }
  return index;
}

/**
 * Find the one service that `/{app}/{service}` names. Throws `NotFoundError` for an unknown app or
 * service, and `InputError` when two services share the name or the service has no API.
 */
export function resolveService(index: ServiceIndex, app: string, service: string): RoutableService {
  const byName = index.get(app);
  if (byName === undefined) {
    throw new NotFoundError(`application ${quoteValue(app)} is unknown or has no registered services`);
  }

  const named = byName.get(service);
  if (named === undefined || named.length === 0) {
    throw new NotFoundError(`application ${quoteValue(app)} has no service named ${quoteValue(service)}`);
  }
  if (named.length > 1) {
    const ids = named.map((record) => record.id).join(', ');
    throw new InputError(`service name ${quoteValue(service)} of application ${quoteValue(app)} is shared by services ${ids}; rename one of them`);
  }

  const record = named[0]!;
  if (record.api === undefined) {
    throw new InputError(`service ${quoteValue(service)} of application ${quoteValue(app)} has no API to call`);
  }
  return record as RoutableService;
}
