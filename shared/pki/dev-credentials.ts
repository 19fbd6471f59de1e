import { randomBytes } from 'node:crypto';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CommonConfig } from '../config/common.ts';
import { CredentialsCipher } from '../crypto/credentials-cipher.ts';
import { createCertificateAuthority, issueServerCertificate } from './certificates.ts';

/** Paths of the local development credentials. */
export type DevCredentialPaths = {
  caCertFile: string;
  caKeyFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  adminSecretFile: string;
  credentialsKeyFile: string;
};

/** Paths of the development credentials as the configuration names them. */
export function devCredentialPaths(config: Readonly<CommonConfig>): DevCredentialPaths {
  return {
    caCertFile: config.caCertFile,
    caKeyFile: config.caKeyFile,
    serverCertFile: config.serverCertFile,
    serverKeyFile: config.serverKeyFile,
    adminSecretFile: config.adminAuth.mode === 'secret' ? config.adminAuth.secretFile : path.join(config.certsDir, 'admin-jwt-secret'),
    credentialsKeyFile: config.credentialsKeyFile,
  };
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

async function writePrivate(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content, { mode: 0o600 });
}

async function writePublic(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content, { mode: 0o644 });
}

/**
 * Create what is missing of the development CA, a server certificate for `localhost` and
 * `127.0.0.1`, and the admin JWT secret. Existing files are kept. Returns the names of created files.
 */
export async function ensureDevCredentials(paths: DevCredentialPaths): Promise<string[]> {
  const created: string[] = [];

  let caCertificatePem: string;
  let caPrivateKeyPem: string;
  if ((await exists(paths.caCertFile)) && (await exists(paths.caKeyFile))) {
    caCertificatePem = await readFile(paths.caCertFile, 'utf8');
    caPrivateKeyPem = await readFile(paths.caKeyFile, 'utf8');
  } else {
    const ca = await createCertificateAuthority('Ferry Development CA');
    caCertificatePem = ca.certificatePem;
    caPrivateKeyPem = ca.privateKeyPem;
    await writePrivate(paths.caKeyFile, caPrivateKeyPem);
    await writePublic(paths.caCertFile, caCertificatePem);
    created.push(paths.caCertFile, paths.caKeyFile);
  }

  if (!(await exists(paths.serverCertFile)) || !(await exists(paths.serverKeyFile))) {
    const server = await issueServerCertificate(
      { certificatePem: caCertificatePem, privateKeyPem: caPrivateKeyPem },
      { dns: ['localhost'], ip: ['127.0.0.1', '::1'] },
    );
    await writePrivate(paths.serverKeyFile, server.privateKeyPem);
    await writePublic(paths.serverCertFile, server.certificatePem);
    created.push(paths.serverCertFile, paths.serverKeyFile);
  }

  if (!(await exists(paths.adminSecretFile))) {
    await writePrivate(paths.adminSecretFile, `${randomBytes(48).toString('base64url')}\n`);
    created.push(paths.adminSecretFile);
  }

  if (!(await exists(paths.credentialsKeyFile))) {
    const kid = `dev-${new Date().toISOString().slice(0, 10)}`;
    await writePrivate(paths.credentialsKeyFile, `${CredentialsCipher.generateEntry(kid)}\n`);
    created.push(paths.credentialsKeyFile);
  }

  return created;
}
