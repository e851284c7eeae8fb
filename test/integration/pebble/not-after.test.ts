import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, test } from 'node:test';
import { AcmeClient, Http01ListenerSolver, obtainCertificate } from '../../../src/index.ts';
import { systemClock } from '../../../src/internal/clock.ts';
import { certificateFiles } from '../../../src/lifecycle/certificate-files.ts';
import { decideRenewal, stableRandom } from '../../../src/lifecycle/decide.ts';
import { renewalDecision } from '../../../src/lifecycle/renewal-decision.ts';
import { autoHttps } from '../../../src/server/index.ts';
import { MemoryStore } from '../../../src/storage/memory-store.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';
import { onPebble, until } from '../server/support.ts';

// RELIABILITY A19: a newOrder with notAfter = now + 3 min, which Pebble honours. The way a user asks for
// it is the library's obtain({ notAfter }) (neither the CLI nor the manager has such an option). The
// certificate then goes where acmekit keeps certificates (a store in lego's layout), as the manager and
// the CLI's `list`/`renew` read it. Everything after the order must follow the leaf, not the request:
// the request carries milliseconds (.900) that a certificate cannot (X.509 times are whole seconds),
// so metadata or a schedule taken from the request would be off by 0.9 s, and by 0.45 s or more for
// a renewal at half the lifetime.
const NAME = 'until.example.com';

let pebble: PebbleServer;
before(async () => {
  pebble = await startPebble();
});
after(() => pebble?.stop());

test('A19: newOrder with notAfter = now + 3 min: Pebble honours it; the result, the stored certificate as the manager and the CLI read it, and the renewal schedule follow the leaf, not the request', async (t) => {
  const client = new AcmeClient(pebble.directoryUrl, { caBundle: pebble.caBundle });
  t.after(() => client.close());
  const account = await client.createAccount({ acceptTos: true });
  const requested = new Date(Math.floor(Date.now() / 1000) * 1000 + 180_000 + 900);
  const result = await obtainCertificate(account, {
    names: [NAME],
    solvers: [new Http01ListenerSolver({ port: pebble.httpPort, host: '127.0.0.1' })],
    notAfter: requested,
  });
  const leaf = new X509Certificate(result.certificate);
  const leafNotBefore = Date.parse(leaf.validFrom);
  const leafNotAfter = Date.parse(leaf.validTo);
  const lifetime = leafNotAfter - leafNotBefore;

  // Pebble honoured the request (its own default is years): the leaf ends at the requested second.
  assert.equal(
    leafNotAfter,
    requested.getTime() - 900,
    `leaf notAfter ${leaf.validTo}, asked ${requested.toISOString()}`,
  );
  assert.ok(lifetime > 60_000 && lifetime <= 181_000, `a ~3-minute certificate (${lifetime} ms)`);
  // The result the library hands back carries the leaf's dates.
  assert.equal(result.notAfter.getTime(), leafNotAfter, 'result.notAfter is the leaf’s, not the request’s');
  assert.equal(result.notBefore.getTime(), leafNotBefore, 'result.notBefore is the leaf’s');
  assert.equal(result.serial.toLowerCase(), leaf.serialNumber.toLowerCase());

  // Kept where acmekit keeps certificates (lego's layout), read by the manager and by the CLI's lifecycle.
  const store = new MemoryStore();
  const files = certificateFiles(NAME);
  await store.put(files.crt, result.chain);
  await store.put(files.key, result.privateKey!.pem(), { private: true });
  await store.put(files.issuer, result.issuer);

  const tls = await autoHttps({ ...onPebble(pebble, NAME), store });
  t.after(() => tls.close());
  const events: string[] = [];
  for (const e of ['obtained', 'renewed', 'failed'] as const) tls.on(e, () => events.push(e));
  await until('the manager’s first check', () => tls.status().certificates[0]?.nextCheck !== undefined);
  const status = tls.status().certificates[0]!;
  assert.equal(status.serial, leaf.serialNumber.toLowerCase(), 'the manager serves the stored certificate');
  assert.equal(Date.parse(status.notBefore!), leafNotBefore);
  assert.equal(Date.parse(status.notAfter!), leafNotAfter);
  assert.deepEqual(events, [], 'nothing to renew yet');

  // The CLI's lifecycle (`acmekit list` / `renew`) reads the same file and decides the same way.
  const stored = await decideRenewal({
    store,
    files,
    record: { domain: NAME, certUrl: result.certificateUrl, certStableUrl: result.certificateUrl },
    clock: systemClock,
  });
  assert.ok(stored);
  assert.equal(stored.notBefore.getTime(), leafNotBefore);
  assert.equal(stored.notAfter.getTime(), leafNotAfter);
  assert.equal(stored.decision.source, 'lifetime');

  // The schedule: half of the leaf's lifetime left, plus the jitter drawn for this serial.
  const decide = (notAfter: number) =>
    renewalDecision({
      now: new Date(),
      notBefore: new Date(leafNotBefore),
      notAfter: new Date(notAfter),
      random: stableRandom(`${leaf.serialNumber.toUpperCase()} `),
    }).renewAt.getTime();
  const fromLeaf = decide(leafNotAfter);
  const fromRequest = decide(requested.getTime());
  assert.ok(fromRequest - fromLeaf >= 400, 'the two schedules can be told apart');
  const nextCheck = Date.parse(status.nextCheck!);
  const share = (nextCheck - leafNotBefore) / lifetime;
  assert.ok(share >= 0.5 && share <= 0.55, `renewal at ${(share * 100).toFixed(1)} % of the leaf's lifetime`);
  assert.ok(
    Math.abs(nextCheck - fromLeaf) <= 50,
    `manager: ${status.nextCheck}, from the leaf ${iso(fromLeaf)}`,
  );
  assert.equal(stored.decision.renewAt.getTime(), fromLeaf, 'the CLI lifecycle schedules from the leaf');
  t.diagnostic(
    `A19: asked notAfter ${requested.toISOString()}, leaf ${leaf.validFrom} – ${leaf.validTo}; renewal at ${iso(fromLeaf)} (${(share * 100).toFixed(1)} % of the leaf's lifetime; from the request it would be ${iso(fromRequest)})`,
  );
});

const iso = (ms: number) => new Date(ms).toISOString();
