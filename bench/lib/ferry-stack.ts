/**
 * Ferry as the benchmark runs it. A private `nats-server -js` listens on a free port with a temp
 * store, and the development credentials live in a temp folder. Each Ferry service runs as its own
 * Node.js process on free loopback ports. The application `bench` exists, with a client
 * certificate issued for it.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { loadAdminSecret } from '../../shared/auth/admin-auth.ts';
import { issueAdminToken } from '../../shared/auth/issue-admin-token.ts';
import { parseCommonConfig } from '../../shared/config/common.ts';
import { SERVICE_NAMES, SERVICE_PORTS, externalPortVariable, internalPortVariable, type ServiceName } from '../../shared/config/services.ts';
import { KV_BUCKETS } from '../../shared/nats/names.ts';
import { DAY_MS, generateRsaKeyPair, issueClientCertificate } from '../../shared/pki/certificates.ts';
import { devCredentialPaths, ensureDevCredentials } from '../../shared/pki/dev-credentials.ts';
import { findNatsServer, startNatsServer, waitForNats } from '../../scripts/lib/nats-server.ts';
import { freePort } from '../../test/helpers/nats-server.ts';
import { residentMemoryMB } from './machine.ts';
import { spawnNode, stopNode, waitForReady, type NodeProcess } from './node-process.ts';

/** The paired application that every load runs as. */
export const BENCH_APPLICATION = 'bench';
/** How long a service gets to return 200 on `/readyz` after it starts. */
const SERVICE_READY_TIMEOUT_MS = 60_000;
/** How long nats-server gets to accept connections. */
const NATS_READY_TIMEOUT_MS = 10_000;

/** One process of a Ferry service. */
export type ServiceProcess = NodeProcess & {
  service: ServiceName;
  /** `events`, or `events-2` for a second replica. */
  label: string;
  internalUrl: string;
  /** HTTPS origin of the external listener, for the services that have one. */
  externalUrl: string | undefined;
};

/** Client certificate, key and CA for mTLS calls as the application `bench`. */
export type ClientTls = { cert: string; key: string; ca: string };

export type FerryStackOptions = {
  /** Services to start, each as one process. */
  services: readonly ServiceName[];
  /** Variables added to every service's environment, e.g. `FERRY_CONNECTOR_SIGNING_THREADS`. */
  env?: Record<string, string>;
  /** Folder for `--cpu-prof` profiles of every service process; none when undefined. */
  profileDir?: string | undefined;
};

async function createClientTls(caCertFile: string, caKeyFile: string): Promise<ClientTls> {
  const ca = { certificatePem: await readFile(caCertFile, 'utf8'), privateKeyPem: await readFile(caKeyFile, 'utf8') };
  const keys = await generateRsaKeyPair(2048);
  const cert = issueClientCertificate(ca, { CN: BENCH_APPLICATION, O: 'Ferry Bench', C: 'DE' }, keys.publicKeyPem, DAY_MS);
  return { cert, key: keys.privateKeyPem, ca: ca.certificatePem };
}

/** Environment shared by all services: NATS, credentials and the ports of every service. */
async function createSharedEnv(natsUrl: string, certsDir: string, extra: Record<string, string>): Promise<Record<string, string>> {
  const env: Record<string, string> = {
    NATS_URL: natsUrl,
    FERRY_CERTS_DIR: certsDir,
    FERRY_HOST: '127.0.0.1',
    FERRY_LOG_LEVEL: 'warn',
    FERRY_SHUTDOWN_TIMEOUT_MS: '2000',
    // Targets, token endpoints and sinks of the benchmark all listen on loopback.
    FERRY_EGRESS_ALLOW_LOOPBACK: 'true',
  };
  for (const name of SERVICE_NAMES) {
    env[internalPortVariable(name)] = String(await freePort());
    if (SERVICE_PORTS[name].external !== undefined) {
      env[externalPortVariable(name)] = String(await freePort());
    }
  }
  return { ...env, ...extra };
}

/** A running Ferry: NATS, credentials and service processes. `stop` removes everything it started. */
export class FerryStack {
  private readonly processes: ServiceProcess[] = [];

  private constructor(
    private readonly dir: string,
    private readonly nats: NodeProcess,
    readonly natsUrl: string,
    /** Environment shared by every service process. */
    readonly env: Readonly<Record<string, string>>,
    readonly clientTls: ClientTls,
    /** Admin JWT for the internal API. */
    readonly adminToken: string,
    private readonly profileDir: string | undefined,
  ) {}

  static async start(options: FerryStackOptions): Promise<FerryStack> {
    const binary = await findNatsServer();
    if (!binary) {
      throw new Error('nats-server is not installed: apt-get install nats-server');
    }

    const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-bench-'));
    const natsUrl = `nats://127.0.0.1:${await freePort()}`;
    const natsChild = await startNatsServer(binary, natsUrl, path.join(dir, 'nats'));
    natsChild.stdout?.resume();
    natsChild.stderr?.resume();
    const nats: NodeProcess = { child: natsChild, pid: natsChild.pid ?? 0, output: [] };
    try {
      if (!(await waitForNats(natsUrl, NATS_READY_TIMEOUT_MS))) {
        throw new Error(`nats-server did not start at ${natsUrl}`);
      }
      const env = await createSharedEnv(natsUrl, path.join(dir, 'certs'), options.env ?? {});
      const config = parseCommonConfig(env);
      await ensureDevCredentials(devCredentialPaths(config));
      if (config.adminAuth.mode !== 'secret') {
        throw new Error('the benchmark signs admin tokens with the local secret, so FERRY_ADMIN_OIDC_ISSUER must not be set');
      }
      const adminToken = await issueAdminToken(await loadAdminSecret(config.adminAuth));
      const clientTls = await createClientTls(config.caCertFile, config.caKeyFile);

      const stack = new FerryStack(dir, nats, natsUrl, env, clientTls, adminToken, options.profileDir);
      try {
        await Promise.all(options.services.map((name) => stack.startProcess(name, env)));
        await stack.createApplication();
      } catch (error) {
        await stack.stop();
        throw error;
      }
      return stack;
    } catch (error) {
      await stopNode(nats);
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Process id of nats-server. */
  get natsPid(): number {
    return this.nats.pid;
  }

  /** Return the first process of `name`. */
  service(name: ServiceName): ServiceProcess {
    const found = this.processes.find((process) => process.service === name);
    if (!found) {
      throw new Error(`the benchmark did not start the ${name} service`);
    }
    return found;
  }

  /** Return every process of `name`, the first one first. */
  replicas(name: ServiceName): ServiceProcess[] {
    return this.processes.filter((process) => process.service === name);
  }

  /** Start one more process of `name` on its own ports, sharing NATS and credentials. */
  async addReplica(name: ServiceName): Promise<ServiceProcess> {
    const env: Record<string, string> = { ...this.env, [internalPortVariable(name)]: String(await freePort()) };
    if (SERVICE_PORTS[name].external !== undefined) {
      env[externalPortVariable(name)] = String(await freePort());
    }
    return this.startProcess(name, env);
  }

  /** Stop one replica and forget it. */
  async removeReplica(replica: ServiceProcess): Promise<void> {
    await stopNode(replica);
    this.processes.splice(this.processes.indexOf(replica), 1);
  }

  /** Stop the first process of `name`, run `whileStopped`, and start the service again on the same ports. */
  async restart(name: ServiceName, whileStopped: () => Promise<void> = () => Promise.resolve()): Promise<ServiceProcess> {
    const previous = this.service(name);
    await this.removeReplica(previous);
    await whileStopped();
    const env: Record<string, string> = { ...this.env, [internalPortVariable(name)]: new URL(previous.internalUrl).port };
    if (previous.externalUrl !== undefined) {
      env[externalPortVariable(name)] = new URL(previous.externalUrl).port;
    }
    const started = await this.startProcess(name, env, previous.label);
    // Keep it first, so that `service(name)` returns it.
    this.processes.splice(this.processes.indexOf(started), 1);
    this.processes.unshift(started);
    return started;
  }

  /** Resident set size of every running service process, in MB (10^6 bytes), by label. */
  residentMemoryMB(): Record<string, number> {
    const sizes: Record<string, number> = {};
    for (const process of this.processes) {
      const size = residentMemoryMB(process.pid);
      if (size !== undefined) {
        sizes[process.label] = size;
      }
    }
    return sizes;
  }

  /** Stop every service, then NATS, and delete the temp folder. */
  async stop(): Promise<void> {
    await Promise.all(this.processes.splice(0).map((process) => stopNode(process)));
    await stopNode(this.nats);
    await rm(this.dir, { recursive: true, force: true });
  }

  private async startProcess(name: ServiceName, env: Record<string, string>, label?: string): Promise<ServiceProcess> {
    const profileFlags = this.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.resolve(this.profileDir)}`];
    const node = spawnNode(path.join('services', name, 'main.ts'), env, profileFlags);
    const count = this.replicas(name).length;
    const externalPort = env[externalPortVariable(name)];
    const replica: ServiceProcess = {
      ...node,
      service: name,
      label: label ?? (count === 0 ? name : `${name}-${count + 1}`),
      internalUrl: `http://127.0.0.1:${env[internalPortVariable(name)]}`,
      externalUrl: SERVICE_PORTS[name].external === undefined || externalPort === undefined ? undefined : `https://127.0.0.1:${externalPort}`,
    };
    this.processes.push(replica);
    await waitForReady(replica, `${replica.internalUrl}/readyz`, SERVICE_READY_TIMEOUT_MS);
    return replica;
  }

  /** Create the application `bench`: through the registry's admin API when it runs, else in its KV bucket. */
  private async createApplication(): Promise<void> {
    const registry = this.replicas('registry')[0];
    if (registry) {
      const response = await fetch(`${registry.internalUrl}/v1/applications`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: BENCH_APPLICATION, description: 'load generator of npm run bench' }),
      });
      if (response.status !== 201) {
        throw new Error(`creating the application ${BENCH_APPLICATION} returned ${response.status}: ${await response.text()}`);
      }
      return;
    }

    const nc = await connect({ servers: this.natsUrl });
    try {
      const applications = await new Kvm(nc).open(KV_BUCKETS.applications);
      await applications.put(BENCH_APPLICATION, JSON.stringify({ name: BENCH_APPLICATION, labels: {}, createdAt: new Date().toISOString() }));
    } finally {
      await nc.close();
    }
  }
}
