import { loadAdminSecret } from '../../shared/auth/admin-auth.ts';
import { issueAdminToken } from '../../shared/auth/issue-admin-token.ts';
import type { AdminAuthConfig } from '../../shared/config/common.ts';
import { ConfigError } from '../../shared/errors/errors.ts';
import { createServiceApp, finishServiceApp, serveInternal, startRuntime, type ServiceRuntime,
  type ServiceStartOptions } from '../../shared/service/runtime.ts';
import type { FunctionsConfig } from './config.ts';
import { loadFunctions, type LoadedFunction } from './function-loader.ts';
import { createFunctionRoutes } from './function-routes.ts';
import { registerSubscriptions, toSubscriptionRequests } from './subscription-registrar.ts';

export type FunctionsService = {
  runtime: ServiceRuntime;
  internalPort: number;
  functions: LoadedFunction[];
  /** Settles once every Function's subscriptions are registered with the dispatcher, or registration failed for good. */
  registered: Promise<void>;
  stop(): Promise<void>;
};

async function createDispatcherToken(config: Readonly<FunctionsConfig>): Promise<string> {
  if (config.dispatcherToken !== undefined) {
    return config.dispatcherToken;
  }
  const auth: AdminAuthConfig = config.common.adminAuth;
  if (auth.mode !== 'secret') {
    throw new ConfigError('FERRY_FUNCTIONS_DISPATCHER_TOKEN is required when admin tokens come from an OIDC issuer');
  }
  return issueAdminToken(await loadAdminSecret(auth), { subject: 'ferry-functions', issuer: auth.issuer });
}

/** The base URL the dispatcher uses to reach this service. A configured port 0 becomes the port actually bound. */
function toSinkBaseUrl(configured: string, port: number): string {
  const url = new URL(configured);
  if (url.port === '0') {
    url.port = String(port);
  }
  return url.toString().replace(/\/+$/, '');
}

/**
 * Start the functions service: load every Function, serve each at `POST /<name>`, and register
 * their subscriptions with the dispatcher in the background until it succeeds.
 */
export async function startFunctionsService(
  config: Readonly<FunctionsConfig>,
  options: ServiceStartOptions = {},
): Promise<FunctionsService> {
  const functions = await loadFunctions(config.functionsDir);
  const token = await createDispatcherToken(config);
  const runtime = await startRuntime('functions', config.common, options);
  const log = runtime.log;

  const app = createServiceApp(runtime, { health: true });
  app.use(
    createFunctionRoutes(
      functions,
      { gatewayUrl: config.common.internalUrls.gateway, eventsUrl: config.common.internalUrls.events, timeoutMs: config.timeoutMs, bodyLimitBytes: config.bodyLimitBytes },
      log,
    ),
  );
  finishServiceApp(runtime, app);
  const internalPort = await serveInternal(runtime, app, config.common.ports.functions.internal);
  log.info({ functions: functions.map((fn) => fn.name) }, 'functions loaded');

  // NOTE: registration only creates and updates. A subscription of a Function that was removed stays
  // in the dispatcher until it is deleted through the API.
  const sinkBaseUrl = toSinkBaseUrl(config.common.internalUrls.functions, internalPort);
  const requests = functions.flatMap((fn) => toSubscriptionRequests(fn, sinkBaseUrl));
  const abort = new AbortController();
  runtime.shutdown.addCleanup('subscription registration', () => abort.abort());

  let registrationFailure: string | undefined = 'subscriptions are being registered';
  const registered = registerSubscriptions(requests, {
    dispatcherUrl: config.common.internalUrls.dispatcher,
    token,
    retryMs: config.registrationRetryMs,
    log,
    signal: abort.signal,
  }).then(
    () => {
      registrationFailure = undefined;
    },
    (error: unknown) => {
      registrationFailure = `subscription registration failed: ${error instanceof Error ? error.message : String(error)}`;
      log.error({ err: error }, 'cannot register function subscriptions');
    },
  );
  runtime.addReadinessProbe('subscriptions', () => registrationFailure);

  return { runtime, internalPort, functions, registered, stop: () => runtime.shutdown.stop() };
}
