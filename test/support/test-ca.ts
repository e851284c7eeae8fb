import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCa {
  /** Temp dir holding every file below; the caller removes it. */
  dir: string;
  rootPem: string;
  rootPath: string;
  /** Server certificate for localhost, 127.0.0.1 and ::1, signed by the root. */
  certPath: string;
  keyPath: string;
}

// Our own config so the result does not depend on the system's openssl.cnf defaults.
const OPENSSL_CNF = `
[req]
distinguished_name = dn
[dn]
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

const P256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A fresh root CA and localhost server certificate (EC P-256, valid 7 days) in a new temp dir. */
export async function createTestCa(): Promise<TestCa> {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-ca-'));
  const file = (name: string) => join(dir, name);
  const [cnf, rootKey, rootPath, csr, certPath, keyPath] = [
    'openssl.cnf',
    'root-key.pem',
    'root.pem',
    'server.csr',
    'server.pem',
    'server-key.pem',
  ].map(file) as [string, string, string, string, string, string];
  await writeFile(cnf, OPENSSL_CNF);
  // A random suffix keeps roots from different runs distinguishable in error messages.
  const name = `/CN=acmekit test root ${randomBytes(4).toString('hex')}`;
  await run('openssl', [
    ...['req', '-x509', '-config', cnf, '-extensions', 'root', ...P256],
    ...['-keyout', rootKey, '-out', rootPath, '-days', '7', '-subj', name],
  ]);
  await run('openssl', [
    ...['req', '-new', '-config', cnf, ...P256],
    ...['-keyout', keyPath, '-out', csr, '-subj', '/CN=localhost'],
  ]);
  await run('openssl', [
    ...['x509', '-req', '-in', csr, '-CA', rootPath, '-CAkey', rootKey, '-out', certPath, '-days', '7'],
    ...['-set_serial', `0x${randomBytes(16).toString('hex')}`, '-extfile', cnf, '-extensions', 'server'],
  ]);
  return { dir, rootPem: await readFile(rootPath, 'utf8'), rootPath, certPath, keyPath };
}
