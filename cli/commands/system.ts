import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { createCsr, decodePemField } from '../csr.ts';
import type { Output } from '../output.ts';
import { assertWritable, loadPairing, savePairing, type ManagementInfo, type Pairing } from '../pairing-store.ts';
import { requestExternal } from '../system-client.ts';
import { CommandError, UsageError, parseCommand, requireOption, requirePositional } from '../usage.ts';

export const SYSTEM_HELP = `External system commands (mTLS with the pairing in --dir):
  ferry pair <pairing-url> --dir D [--ca FILE] [--force]
  ferry renew --dir D
  ferry register --dir D --name N (--spec FILE | --spec-url URL) [--events FILE] --target URL
                 [--provider P] [--description T] [--identifier ID]
                 [--oauth URL --client-id ID --client-secret S | --basic USER:PASS]
  ferry send --dir D --type T [--data JSON | --data-file F] [--legacy] [--source S]`;

type SigningAnswer = { crt?: unknown; clientCrt?: unknown; caCrt?: unknown };
type InfoAnswer = { csrUrl?: unknown; api?: { infoUrl?: unknown }; certificate?: { subject?: unknown } };

/** `ferry pair`: take the token URL, make a key and CSR, get the certificate and store everything in --dir. */
export async function pair(args: string[], output: Output): Promise<void> {
  const { values, positionals } = parseCommand(args, { dir: { type: 'string' }, ca: { type: 'string' }, force: { type: 'boolean' } });
  const pairingUrl = requirePositional(positionals, 0, 'pairing-url');
  if (!URL.canParse(pairingUrl) || !pairingUrl.startsWith('https://')) {
    throw new UsageError(`<pairing-url> must be the https:// URL that ferry token printed, got '${pairingUrl.slice(0, 80)}'`);
  }
  const dir = requireOption(values.dir, 'dir');
  await assertWritable(dir, values.force === true);
  const ca = values.ca === undefined ? undefined : await readFile(values.ca, 'utf8');

  output.progress(`fetching the signing request info from ${new URL(pairingUrl).origin}`);
  const info = (
    await requestExternal('GET', pairingUrl, { ca }).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (ca === undefined && /certificate/i.test(message)) {
        throw new CommandError(`${message}. Pass --ca with the CA that signed Ferry's server certificate (locally certs/ca.pem).`);
      }
      throw error;
    })
  ).body as InfoAnswer;
  if (typeof info.csrUrl !== 'string' || typeof info.certificate?.subject !== 'string' || typeof info.api?.infoUrl !== 'string') {
    throw new CommandError('the pairing URL did not return csrUrl, api.infoUrl and certificate.subject');
  }

  output.progress(`making an RSA-2048 key and a CSR for ${info.certificate.subject}`);
  const { privateKeyPem, csrPem } = await createCsr(info.certificate.subject);
  const body = JSON.stringify({ csr: Buffer.from(csrPem).toString('base64') });
  const signed = (await requestExternal('POST', info.csrUrl, { ca }, { body, headers: { 'content-type': 'application/json' } })).body as SigningAnswer;
  const chain = decodePemField(signed.crt, 'crt');
  const caPem = decodePemField(signed.caCrt, 'caCrt');

  output.progress('fetching the management info over mTLS');
  const management = (await requestExternal('GET', info.api.infoUrl, { key: privateKeyPem, cert: chain, ca: ca ?? caPem })).body as ManagementInfo;
  await savePairing({ dir, key: privateKeyPem, certificate: chain, ca: ca ?? caPem, info: management });

  output.result({ application: management.clientIdentity.application, dir, urls: management.urls }, () =>
    [`paired as ${management.clientIdentity.application}; key and certificate are in ${dir}`, `events:   ${management.urls.eventsUrl}`, `metadata: ${management.urls.metadataUrl}`].join('\n'),
  );
}

/** `ferry renew`: get a new certificate with a new key over the current mTLS identity. */
export async function renew(args: string[], output: Output): Promise<void> {
  const { values } = parseCommand(args, { dir: { type: 'string' } });
  const pairing = await loadPairing(requireOption(values.dir, 'dir'));

  output.progress('making a new key and CSR');
  const { privateKeyPem, csrPem } = await createCsr(pairing.info.certificate.subject);
  const body = JSON.stringify({ csr: Buffer.from(csrPem).toString('base64') });
  const signed = (await requestExternal('POST', pairing.info.urls.renewCertUrl, tlsOf(pairing), { body, headers: { 'content-type': 'application/json' } })).body as SigningAnswer;

  await savePairing({ ...pairing, key: privateKeyPem, certificate: decodePemField(signed.crt, 'crt') });
  output.result({ application: pairing.info.clientIdentity.application, dir: pairing.dir, renewed: true }, () => `renewed the certificate in ${pairing.dir}`);
}

function tlsOf(pairing: Pairing): { key: string; cert: string; ca: string } {
  return { key: pairing.key, cert: pairing.certificate, ca: pairing.ca };
}

/** Read a spec file: JSON or YAML become an object, anything else is rejected because inline specs must be JSON objects. */
async function readSpecFile(file: string, option: string): Promise<unknown> {
  const text = await readFile(file, 'utf8').catch((error: unknown) => {
    throw new CommandError(`cannot read --${option} ${file}: ${error instanceof Error ? error.message : String(error)}`);
  });
  try {
    return parseYaml(text) as unknown;
  } catch (error) {
    throw new CommandError(`${file} is neither JSON nor YAML: ${error instanceof Error ? error.message : String(error)}. Serve it and pass --spec-url instead.`);
  }
}

function credentialsFrom(values: Record<string, string | boolean | undefined>): Record<string, unknown> | undefined {
  const oauthUrl = values.oauth as string | undefined;
  const basic = values.basic as string | undefined;
  if (oauthUrl !== undefined && basic !== undefined) {
    throw new UsageError('pass either --oauth or --basic, not both');
  }
  if (oauthUrl !== undefined) {
    return {
      oauth: { url: oauthUrl, clientId: requireOption(values['client-id'] as string | undefined, 'client-id'), clientSecret: requireOption(values['client-secret'] as string | undefined, 'client-secret') },
    };
  }
  if (basic !== undefined) {
    const at = basic.indexOf(':');
    if (at <= 0) {
      throw new UsageError('--basic must be USER:PASS');
    }
    return { basic: { username: basic.slice(0, at), password: basic.slice(at + 1) } };
  }
  return undefined;
}

/** `ferry register`: register an API (and optionally an event catalog) with the registry. */
export async function register(args: string[], output: Output): Promise<void> {
  const { values } = parseCommand(args, {
    dir: { type: 'string' },
    name: { type: 'string' },
    provider: { type: 'string' },
    description: { type: 'string' },
    identifier: { type: 'string' },
    spec: { type: 'string' },
    'spec-url': { type: 'string' },
    events: { type: 'string' },
    target: { type: 'string' },
    oauth: { type: 'string' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    basic: { type: 'string' },
  });
  const dir = requireOption(values.dir, 'dir');
  const name = requireOption(values.name, 'name');
  const targetUrl = requireOption(values.target, 'target');
  if (values.spec !== undefined && values['spec-url'] !== undefined) {
    throw new UsageError('pass either --spec or --spec-url, not both');
  }

  const credentials = credentialsFrom(values);
  const pairing = await loadPairing(dir);

  const api: Record<string, unknown> = { targetUrl };
  if (values.spec !== undefined) api.spec = await readSpecFile(values.spec, 'spec');
  if (values['spec-url'] !== undefined) api.specificationUrl = values['spec-url'];
  if (credentials) api.credentials = credentials;

  const service: Record<string, unknown> = {
    provider: values.provider ?? pairing.info.clientIdentity.application,
    name,
    description: values.description ?? name,
    api,
  };
  if (values.identifier !== undefined) service.identifier = values.identifier;
  if (values.events !== undefined) service.events = { spec: await readSpecFile(values.events, 'events') };

  output.progress(`registering ${name} with ${new URL(pairing.info.urls.metadataUrl).origin}`);
  const answer = await requestExternal('POST', pairing.info.urls.metadataUrl, tlsOf(pairing), {
    body: JSON.stringify(service),
    headers: { 'content-type': 'application/json' },
  });
  const id = (answer.body as { id?: string }).id;
  output.result({ id, name }, () => `registered ${name} as ${id ?? '(no id returned)'}`);
}

async function parseData(values: { data?: string; 'data-file'?: string }): Promise<unknown> {
  if (values.data !== undefined && values['data-file'] !== undefined) {
    throw new UsageError('pass either --data or --data-file, not both');
  }
  const text = values.data;
  if (values['data-file'] !== undefined) {
    return JSON.parse(await readFile(values['data-file'], 'utf8')) as unknown;
  }
  if (text === undefined) {
    return {};
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`--data must be JSON, got '${text.slice(0, 60)}'`);
  }
}

/** Split `order.created.v1` into the legacy `event-type` and `event-type-version`. */
export function splitLegacyType(type: string): { eventType: string; version: string } {
  const at = type.lastIndexOf('.');
  if (at <= 0 || !/^[A-Za-z0-9]+$/.test(type.slice(at + 1))) {
    throw new UsageError(`--type must end with a version for --legacy, such as order.created.v1; got '${type}'`);
  }
  return { eventType: type.slice(0, at), version: type.slice(at + 1) };
}

/** `ferry send`: send one event, as a binary CloudEvent or in the legacy format. */
export async function send(args: string[], output: Output): Promise<void> {
  const { values } = parseCommand(args, {
    dir: { type: 'string' },
    type: { type: 'string' },
    data: { type: 'string' },
    'data-file': { type: 'string' },
    legacy: { type: 'boolean' },
    source: { type: 'string' },
    id: { type: 'string' },
  });
  const dir = requireOption(values.dir, 'dir');
  const type = requireOption(values.type, 'type');
  const legacyType = values.legacy === true ? splitLegacyType(type) : undefined;
  const data = await parseData(values);
  const pairing = await loadPairing(dir);
  const id = values.id ?? randomUUID();
  const application = pairing.info.clientIdentity.application;

  if (legacyType) {
    const { eventType, version } = legacyType;
    const url = pairing.info.urls.eventsUrl.replace(/\/events$/, '/v1/events');
    const body = JSON.stringify({ 'event-type': eventType, 'event-type-version': version, 'event-id': id, 'event-time': new Date().toISOString(), data });
    const answer = await requestExternal('POST', url, tlsOf(pairing), { body, headers: { 'content-type': 'application/json' } });
    output.result(answer.body, () => `sent legacy event ${eventType} ${version} with id ${id}`);
    return;
  }

  const headers = {
    'content-type': 'application/json',
    'ce-specversion': '1.0',
    'ce-id': id,
    'ce-type': type,
    'ce-source': values.source ?? application,
    'ce-time': new Date().toISOString(),
  };
  await requestExternal('POST', pairing.info.urls.eventsUrl, tlsOf(pairing), { body: JSON.stringify(data), headers });
  output.result({ id, type, application }, () => `sent CloudEvent ${type} with id ${id}`);
}
