import type { ObjectStore } from '@nats-io/obj';
import type { Logger } from 'pino';
import type { CatalogEvent } from '../domain/event-catalog.ts';
import { SpecFormat, type ParsedSpec } from '../domain/spec-format.ts';

/** Object metadata key that records the stored spec's format. */
const FORMAT_METADATA_KEY = 'format';

/** A stored spec as read back: a JSON document, or the text of an XML document. */
export type StoredSpec = { format: SpecFormat; content: unknown; contentType: string };

/**
 * Object names of one write of a service's specs. Each write gets its own `revision` segment, so two
 * racing updates never overwrite each other's objects and a record always points at a complete set.
 */
export function specObjectNames(application: string, serviceId: string, revision: string): { api: string; events: string; catalog: string } {
  const prefix = `${application}/${serviceId}/${revision}`;
  return { api: `${prefix}/api`, events: `${prefix}/events`, catalog: `${prefix}/catalog` };
}

/** API specs, AsyncAPI specs and derived event catalogs in the `ferry-specs` object store. */
export class SpecStore {
  constructor(
    private readonly store: ObjectStore,
    private readonly log: Logger,
  ) {}

  async putSpec(name: string, spec: ParsedSpec): Promise<void> {
    const text = spec.format === SpecFormat.ODataEdmx ? spec.text : JSON.stringify(spec.document);
    await this.store.putBlob({ name, metadata: { [FORMAT_METADATA_KEY]: spec.format } }, new TextEncoder().encode(text));
  }

  async putCatalog(name: string, events: readonly CatalogEvent[]): Promise<void> {
    await this.store.putBlob({ name, metadata: { [FORMAT_METADATA_KEY]: 'catalog' } }, new TextEncoder().encode(JSON.stringify(events)));
  }

  /** Read a spec. Returns undefined when the object does not exist. */
  async getSpec(name: string): Promise<StoredSpec | undefined> {
    const info = await this.store.info(name);
    if (info === null || info.deleted) {
      return undefined;
    }
    const data = await this.store.getBlob(name);
    if (data === null) {
      return undefined;
    }

    const format = (info.metadata?.[FORMAT_METADATA_KEY] ?? SpecFormat.Json) as SpecFormat;
    const text = new TextDecoder().decode(data);
    if (format === SpecFormat.ODataEdmx) {
      return { format, content: text, contentType: 'application/xml' };
    }
    return { format, content: JSON.parse(text) as unknown, contentType: 'application/json' };
  }

  /** Read a catalog. A missing object gives an empty catalog. */
  async getCatalog(name: string): Promise<CatalogEvent[]> {
    const data = await this.store.getBlob(name);
    return data === null ? [] : (JSON.parse(new TextDecoder().decode(data)) as CatalogEvent[]);
  }

  /**
   * Delete objects, ignoring names that are already gone. Failures are logged, because a leftover object only costs space.
   * NOTE: the object store keeps a small deleted-marker per object name, so every spec update leaves one marker behind.
   */
  async deleteAll(names: readonly (string | undefined)[]): Promise<void> {
    for (const name of names) {
      if (name === undefined) {
        continue;
      }
      try {
        const info = await this.store.info(name);
        if (info !== null && !info.deleted) {
          await this.store.delete(name);
        }
      } catch (error) {
        this.log.warn({ err: error, object: name }, 'cannot delete spec object');
      }
    }
  }
}
