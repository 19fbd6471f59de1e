/** Default listening ports of each service, as documented in the README. */
export const SERVICE_PORTS = Object.freeze({
  connector: { internal: 8080, external: 8443 },
  registry: { internal: 8081, external: 8444 },
  events: { internal: 8082, external: 8445 },
  gateway: { internal: 8083, external: undefined },
  dispatcher: { internal: 8084, external: undefined },
  functions: { internal: 8085, external: undefined },
} as const);

export type ServiceName = keyof typeof SERVICE_PORTS;

export const SERVICE_NAMES = Object.freeze(Object.keys(SERVICE_PORTS) as ServiceName[]);

/** Environment variable that sets a service's internal (plain HTTP) port, e.g. `FERRY_EVENTS_INTERNAL_PORT`. */
export function internalPortVariable(service: ServiceName): string {
  return `FERRY_${service.toUpperCase()}_INTERNAL_PORT`;
}

/** Environment variable that sets a service's external (HTTPS) port, e.g. `FERRY_EVENTS_EXTERNAL_PORT`. */
export function externalPortVariable(service: ServiceName): string {
  return `FERRY_${service.toUpperCase()}_EXTERNAL_PORT`;
}
