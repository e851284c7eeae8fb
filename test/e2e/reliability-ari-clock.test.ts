import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import {
  assertNoNonceTwice,
  assertNoTempFiles,
  createTestIssuer,
  DAY_MS,
  hasFaketime,
  removeDir,
  runAcmekit,
  snapshot,
  type TestIssuer,
  tempDir,
} from '../reliability/support.ts';
import { type AriServer, startAriServer } from '../support/ari-server.ts';
import { installedCli } from '../support/cli.ts';
import { type ProxyLogEntry, startFaultProxy } from '../support/fault-proxy.ts';
import { type PebbleServer, startPebble } from '../support/pebble.ts';

// RELIABILITY B9 (ARI) and C12 (clock skew) through the installed CLI. ARI comes from the emulated
// RFC 9773 front (test/support/ari-server.ts) in front of Pebble; skew from faketime on the CLI alone,
// talking to a proxy whose TLS certificate was issued ten days ago, so a clock two days slow trusts it.

let pebble: PebbleServer;
let bin: string;
let ari: AriServer;
let work: string;
let ariBundle: string;
before(async () => {
  [pebble, bin, work] = await Promise.all([startPebble(), installedCli(), tempDir('ari-clock')]);
  ari = await startAriServer({ pebble });
  ariBundle = join(work, 'ari-root.pem');
  await writeFile(ariBundle, ari.caBundle);
});
after(async () => {
  await ari?.stop();
  await pebble?.stop();
  if (work) await removeDir(work);
});

const iso = (ms: number) => new Date(ms).toISOString();
const window = (start: number, end: number, extra: Record<string, unknown> = {}) => ({
  status: 200,
  body: { suggestedWindow: { start: iso(start), end: iso(end) }, ...extra },
  headers: { 'retry-after': '21600' },
});

/** No nonce was sent twice in the requests the ARI front recorded since its last reset(). */
function assertAriNoncesUnique(): void {
  const nonces = ari.requests.filter((r) => r.method === 'POST').map((r) => r.protected?.nonce);
  assert.ok(nonces.every((n) => typeof n === 'string'));
  assert.equal(new Set(nonces).size, nonces.length, 'no nonce was sent twice');
}

async function legoDir(t: TestContext, label: string): Promise<string> {
  const dir = await tempDir(label);
  t.after(() => removeDir(dir));
  return join(dir, '.lego');
}

test('B9: ARI through the CLI: a past window renews now with replaces = the CertID and shows explanationURL; a malformed window falls back to the lifetime rule; 409 alreadyReplaced is retried without replaces', async (t) => {
  const name = 'b9.example.com';
  const lego = await legoDir(t, 'b9');
  const args = [
    ...['--server', ari.directoryUrl, '--ca-bundle', ariBundle, '-a', '-m', 'ari@example.com'],
    ...['--path', lego, '-d', name, '--http', '--http.port', `127.0.0.1:${pebble.httpPort}`],
  ];
  const first = await runAcmekit(bin, [...args, 'run']);
  assert.equal(first.code, 0, first.all);
  const certId = [...ari.certificates.values()].find((c) => c.names.includes(name))?.certId;
  assert.ok(certId, 'the front computed the CertID of the issued certificate on its own');

  // (a) A window that has passed, with the CA's explanation.
  ari.reset();
  const incident = 'https://ca.example/incidents/2026-11-mis-issuance';
  const now = Date.now();
  ari.setRenewalInfo(window(now - 2 * DAY_MS, now - DAY_MS, { explanationURL: incident }));
  const due = await runAcmekit(bin, [...args, 'renew', '--no-random-sleep']);
  assert.equal(due.code, 0, due.all);
  assert.match(
    due.stdout,
    new RegExp(
      `b9\\.example\\.com: the CA asks for renewal now \\(ARI window .* has passed\\); see ${incident}`,
    ),
  );
  assert.match(due.stdout, /b9\.example\.com: renewed/);
  const orders = ari.newOrders();
  assert.equal(orders.length, 1);
  assert.equal(
    orders[0]!.payload.replaces,
    certId,
    'replaces names the old certificate (independent CertID)',
  );
  assert.equal(orders[0]!.status, 201);

  // (c) Unusable answers: the lifetime rule decides, nothing is ordered.
  for (const answer of [
    { status: 200, body: 'not json', headers: { 'content-type': 'application/json' } },
    window(now + 2 * DAY_MS, now + DAY_MS),
    { status: 200, body: { explanationURL: incident } },
  ]) {
    ari.reset();
    ari.setRenewalInfo(answer);
    const r = await runAcmekit(bin, [...args, 'renew', '--no-random-sleep']);
    assert.equal(r.code, 0, r.all);
    assert.match(r.stdout, /b9\.example\.com: not due until .* \(one third of the \d+-day lifetime left\)/);
    assert.doesNotMatch(r.stdout, /asks for renewal/);
    assert.deepEqual(ari.newOrders(), [], 'a malformed window never triggers a renewal');
  }

  // 409 alreadyReplaced once: the order is sent again without replaces.
  ari.reset();
  ari.setRenewalInfo(window(now - 2 * DAY_MS, now - DAY_MS));
  let refused = 0;
  ari.setNewOrder((payload) =>
    payload.replaces !== undefined && refused++ === 0
      ? {
          status: 409,
          body: {
            type: 'urn:ietf:params:acme:error:alreadyReplaced',
            detail: 'already replaced',
            status: 409,
          },
        }
      : undefined,
  );
  const retried = await runAcmekit(bin, [...args, 'renew', '--no-random-sleep']);
  assert.equal(retried.code, 0, retried.all);
  assert.match(retried.stdout, /b9\.example\.com: renewed/);
  assert.deepEqual(
    ari.newOrders().map((o) => [o.status, Object.hasOwn(o.payload, 'replaces')]),
    [
      [409, true],
      [201, false],
    ],
  );
  assertAriNoncesUnique();
  assertNoTempFiles(await snapshot(lego));
});

interface SkewSetup {
  issuer: TestIssuer;
  args: string[];
  lego: string;
  proxyLog: () => readonly ProxyLogEntry[];
}

/** Pebble behind a proxy with a TLS certificate valid from ten days ago; a first certificate obtained. */
async function skewSetup(t: TestContext, name: string): Promise<SkewSetup> {
  const issuer = await createTestIssuer({
    notBefore: new Date(Date.now() - 10 * DAY_MS),
    notAfter: new Date(Date.now() + 365 * DAY_MS),
  });
  const server = await issuer.newCsr(['localhost', '127.0.0.1']);
  const cert = await issuer.sign({
    csrPem: server.csrPem,
    names: ['localhost', '127.0.0.1'],
    notBefore: new Date(Date.now() - 10 * DAY_MS),
    notAfter: new Date(Date.now() + 365 * DAY_MS),
  });
  const proxy = await startFaultProxy({ target: pebble, cert, key: await readFile(server.keyPath, 'utf8') });
  const lego = await legoDir(t, 'c12');
  t.after(async () => {
    await proxy.stop();
    await removeDir(issuer.dir);
  });
  const args = [
    ...['--server', proxy.directoryUrl, '--ca-bundle', issuer.caPath, '-a', '-m', 'skew@example.com'],
    ...['--path', lego, '-d', name, '--http', '--http.port', `127.0.0.1:${pebble.httpPort}`],
  ];
  const first = await runAcmekit(bin, [...args, 'run']);
  assert.equal(first.code, 0, first.all);
  return { issuer, args, lego, proxyLog: () => proxy.log };
}

test("C12: a client clock 2 days fast or slow decides from the certificate's own dates: the same renewal time, never a negative sleep, no request to the CA when not due", async (t) => {
  if (!hasFaketime()) {
    t.skip('faketime is not installed (scripts/setup.sh installs it)');
    return;
  }
  const name = 'c12.example.com';
  const s = await skewSetup(t, name);
  const renewAts = new Map<string, string>();
  for (const skew of ['-2d', '+0', '+2d']) {
    const list = await runAcmekit(bin, [...s.args, 'list', '--json'], { faketime: skew });
    assert.equal(list.code, 0, list.all);
    const row = JSON.parse(list.stdout).certificates[0];
    assert.equal(row.due, false, skew);
    renewAts.set(skew, row.renewAt);

    const posts = s.proxyLog().length;
    const started = Date.now();
    const renew = await runAcmekit(bin, [...s.args, 'renew', '--no-random-sleep'], { faketime: skew });
    assert.equal(renew.code, 0, `${skew}: ${renew.all}`);
    assert.match(
      renew.stdout,
      new RegExp(`c12\\.example\\.com: not due until ${row.renewAt.replace(/[.]/g, '\\.')}`),
    );
    assert.ok(Date.now() - started < 20_000, `${skew}: no wait`);
    assert.deepEqual(
      s
        .proxyLog()
        .slice(posts)
        .filter((e) => e.method === 'POST'),
      [],
      `${skew}: nothing signed is sent when not due`,
    );
  }
  assert.equal(new Set(renewAts.values()).size, 1, `one renewal time whatever the clock: ${[...renewAts]}`);

  // Due (--days beyond the lifetime): 2 days fast renews at once.
  const fast = await runAcmekit(bin, [...s.args, 'renew', '--days', '1900', '--no-random-sleep'], {
    faketime: '+2d',
  });
  assert.equal(fast.code, 0, fast.all);
  assert.match(fast.stdout, /c12\.example\.com: renewed/);

  // 2 days slow: the new certificate looks not yet valid; it is refused with the reason, the old pair kept.
  const before = await snapshot(s.lego);
  const slow = await runAcmekit(bin, [...s.args, 'renew', '--days', '1900', '--no-random-sleep'], {
    faketime: '-2d',
  });
  assert.equal(slow.code, 1, slow.all);
  assert.match(slow.stderr, /the certificate is not valid until .* \(check this machine's clock\)/);
  const after = await snapshot(s.lego);
  for (const f of ['crt', 'issuer.crt', 'key'])
    assert.deepEqual(after[`certificates/${name}.${f}`], before[`certificates/${name}.${f}`], f);
  assertNoTempFiles(after);
  assertNoNonceTwice(s.proxyLog());
});

test('C12: an ARI window that is still ahead for the CA but already past for a clock 2 days fast renews now, with replaces', async (t) => {
  if (!hasFaketime()) {
    t.skip('faketime is not installed (scripts/setup.sh installs it)');
    return;
  }
  const name = 'c12-ari.example.com';
  const lego = await legoDir(t, 'c12-ari');
  const args = [
    ...['--server', ari.directoryUrl, '--ca-bundle', ariBundle, '-a', '-m', 'skew@example.com'],
    ...['--path', lego, '-d', name, '--http', '--http.port', `127.0.0.1:${pebble.httpPort}`],
  ];
  ari.reset();
  const first = await runAcmekit(bin, [...args, 'run']);
  assert.equal(first.code, 0, first.all);
  const certId = [...ari.certificates.values()].find((c) => c.names.includes(name))?.certId;
  const now = Date.now();
  ari.reset();
  ari.setRenewalInfo(window(now + DAY_MS, now + 1.5 * DAY_MS));
  const onTime = await runAcmekit(bin, [...args, 'renew', '--no-random-sleep']);
  assert.equal(onTime.code, 0, onTime.all);
  assert.match(onTime.stdout, /not due until .* \(ARI window /);
  assert.deepEqual(ari.newOrders(), []);

  const fast = await runAcmekit(bin, [...args, 'renew', '--no-random-sleep'], { faketime: '+2d' });
  assert.equal(fast.code, 0, fast.all);
  assert.match(fast.stdout, /c12-ari\.example\.com: renewed/);
  assert.deepEqual(
    ari.newOrders().map((o) => o.payload.replaces),
    [certId],
  );
  assertAriNoncesUnique();
});
