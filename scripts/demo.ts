/**
 * The main job, end to end on this machine: start a local Pebble CA, register an account, issue a
 * certificate for a test name with http-01 answered by acmekit's own listener, save it atomically
 * (key 0600), and print where the files are, the names and the expiry.
 *
 *   npm run demo            (needs the Debian package `pebble`; `bash .ci/run` installs it)
 */
import { X509Certificate } from 'node:crypto';
import { resolve } from 'node:path';
import { AcmeClient, Http01ListenerSolver, obtainCertificate } from '../src/index.ts';
import { writeFileAtomic } from '../src/internal/atomic-write.ts';
import { startPebble } from '../test/support/pebble.ts';

const names =
  process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['demo.acmekit.test', 'www.demo.acmekit.test'];
const outDir = resolve(process.env.ACMEKIT_DEMO_DIR ?? '.tmp/demo');

const pebble = await startPebble();
const client = new AcmeClient(pebble.directoryUrl, { caBundle: pebble.caBundle });
try {
  const started = performance.now();
  const account = await client.createAccount({ contact: 'demo@acmekit.test', acceptTos: true });
  const result = await obtainCertificate(account, {
    names,
    solvers: [new Http01ListenerSolver({ port: pebble.httpPort, host: '127.0.0.1' })],
  });
  const ms = Math.round(performance.now() - started);
  const base = result.identifiers[0]!.value.replace(/^\*\./, '_.');
  const files = {
    chain: resolve(outDir, `${base}.crt`),
    key: resolve(outDir, `${base}.key`),
    issuer: resolve(outDir, `${base}.issuer.crt`),
    account: resolve(outDir, 'account.json'),
  };
  await writeFileAtomic(files.key, result.privateKey!.pem(), 0o600);
  await writeFileAtomic(files.chain, result.chain, 0o644);
  await writeFileAtomic(files.issuer, result.issuer, 0o644);
  await writeFileAtomic(files.account, JSON.stringify(account.toCredentials(), null, 2), 0o600);
  const leaf = new X509Certificate(result.certificate);
  console.log(`Issued by the local Pebble CA in ${ms} ms (account registration included).`);
  console.log(`  names:       ${leaf.subjectAltName}`);
  console.log(`  valid until: ${result.notAfter.toISOString()}`);
  console.log(`  serial:      ${result.serial}`);
  console.log(`  certificate: ${files.chain}`);
  console.log(`  private key: ${files.key} (0600)`);
  console.log(`  issuer:      ${files.issuer}`);
  console.log(`  account:     ${files.account} (0600)`);
} catch (err) {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  client.close();
  await pebble.stop();
}
