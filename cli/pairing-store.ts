import { access, chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CommandError } from './usage.ts';

/** Management info as the connector returns it over mTLS. */
export type ManagementInfo = {
  clientIdentity: { application: string };
  urls: { eventsInfoUrl: string; eventsUrl: string; metadataUrl: string; renewCertUrl: string; revokeCertUrl: string };
  certificate: { subject: string; extensions?: string; 'key-algorithm'?: string };
};

/** Files of a paired system in its folder. */
export const PAIRING_FILES = { key: 'key.pem', certificate: 'cert.pem', ca: 'ca.pem', info: 'info.json' } as const;

export type Pairing = { dir: string; key: string; certificate: string; ca: string; info: ManagementInfo };

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** Raise unless `dir` contains no pairing, or `force` allows replacing it. */
export async function assertWritable(dir: string, force: boolean): Promise<void> {
  for (const name of [PAIRING_FILES.key, PAIRING_FILES.certificate]) {
    if (!force && (await exists(path.join(dir, name)))) {
      throw new CommandError(`${path.join(dir, name)} already exists; pass --force to replace the pairing`);
    }
  }
}

/** Write the key (owner-only), the certificate chain, the CA and the management info. */
export async function savePairing(pairing: Pairing): Promise<void> {
  await mkdir(pairing.dir, { recursive: true });
  const keyFile = path.join(pairing.dir, PAIRING_FILES.key);
  await writeFile(keyFile, pairing.key, { mode: 0o600 });
  await chmod(keyFile, 0o600);
  await writeFile(path.join(pairing.dir, PAIRING_FILES.certificate), pairing.certificate);
  await writeFile(path.join(pairing.dir, PAIRING_FILES.ca), pairing.ca);
  await writeFile(path.join(pairing.dir, PAIRING_FILES.info), `${JSON.stringify(pairing.info, null, 2)}\n`);
}

export async function loadPairing(dir: string): Promise<Pairing> {
  try {
    const [key, certificate, ca, info] = await Promise.all([
      readFile(path.join(dir, PAIRING_FILES.key), 'utf8'),
      readFile(path.join(dir, PAIRING_FILES.certificate), 'utf8'),
      readFile(path.join(dir, PAIRING_FILES.ca), 'utf8'),
      readFile(path.join(dir, PAIRING_FILES.info), 'utf8'),
    ]);
    return { dir, key, certificate, ca, info: JSON.parse(info) as ManagementInfo };
  } catch (error) {
    throw new CommandError(`cannot read the pairing in ${dir}: ${error instanceof Error ? error.message : String(error)}. Run ferry pair first.`);
  }
}
