import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { get } from 'node:https';
import { test } from 'node:test';
import { startChallTestSrv } from '../support/challtestsrv.ts';
import { startPebble } from '../support/pebble.ts';

/** GET JSON over HTTPS; `ca` undefined means the system trust store. */
function getJson(url: string, ca?: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    get(url, { ca, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => {
        body += s;
      });
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

test('pebble support: starts on free ports and serves its directory over verified TLS', async (t) => {
  const started = Date.now();
  const pebble = await startPebble();
  t.after(() => pebble.stop());
  t.diagnostic(`pebble started in ${Date.now() - started} ms`);

  assert.match(pebble.directoryUrl, /^https:\/\/127\.0\.0\.1:\d+\/dir$/);
  const dir = await getJson(pebble.directoryUrl, pebble.caBundle);
  for (const key of ['newNonce', 'newAccount', 'newOrder']) assert.equal(typeof dir[key], 'string', key);
  assert.equal((dir.meta as Record<string, unknown>).externalAccountRequired, false);
  assert.deepEqual(pebble.eabKeys, {});
  // The HTTPS certificate comes from the per-run root, which nothing else trusts.
  await assert.rejects(getJson(pebble.directoryUrl), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });

  const roots = await pebble.roots();
  assert.equal(roots.length, 1);
  const [intermediate] = await pebble.intermediates();
  assert.ok(new X509Certificate(intermediate!).checkIssued(new X509Certificate(roots[0]!)));
  assert.match(pebble.logs(), /Listening on: 127\.0\.0\.1:/);
});

test('pebble support: eab: true requires external account binding with generated keys', async (t) => {
  const pebble = await startPebble({ eab: true });
  t.after(() => pebble.stop());
  const dir = await getJson(pebble.directoryUrl, pebble.caBundle);
  assert.equal((dir.meta as Record<string, unknown>).externalAccountRequired, true);
  const keys = Object.values(pebble.eabKeys);
  assert.equal(keys.length, 2);
  for (const key of keys) assert.equal(Buffer.from(key, 'base64url').length, 32);
});

test('pebble support: alternateRoots: 2 gives three roots, each with its own intermediate', async (t) => {
  const pebble = await startPebble({ alternateRoots: 2 });
  t.after(() => pebble.stop());
  const roots = (await pebble.roots()).map((pem) => new X509Certificate(pem));
  const intermediates = (await pebble.intermediates()).map((pem) => new X509Certificate(pem));
  assert.equal(roots.length, 3);
  assert.equal(new Set(roots.map((root) => root.fingerprint256)).size, 3);
  assert.equal(intermediates.length, 3);
  // Pebble 2.4.0 cross-signs one intermediate key: same subject and key under every root.
  assert.equal(new Set(intermediates.map((cert) => cert.subject)).size, 1);
  intermediates.forEach((cert, i) => {
    assert.ok(cert.checkIssued(roots[i]!), `intermediate ${i} is issued by root ${i}`);
  });
});

test('pebble support: stop() kills pebble and its challtestsrv and can be called twice', async () => {
  const pebble = await startPebble();
  await pebble.stop();
  await pebble.stop();
  await assert.rejects(getJson(pebble.directoryUrl, pebble.caBundle), { code: 'ECONNREFUSED' });
  await assert.rejects(fetch(pebble.challtestsrv!.managementUrl));
});

test('pebble support: challtestsrv answers TXT, A and CNAME over real DNS on 127.0.0.1', async (t) => {
  const dns = await startChallTestSrv();
  t.after(() => dns.stop());
  assert.equal(dns.dnsAddress, `127.0.0.1:${dns.dnsPort}`);
  const resolver = new Resolver({ timeout: 1000, tries: 2 });
  resolver.setServers([dns.dnsAddress]);

  await dns.addTxt('_acme-challenge.example.test', 'token-1');
  await dns.addTxt('_acme-challenge.example.test.', 'token-2');
  const txt = await resolver.resolveTxt('_acme-challenge.example.test');
  assert.deepEqual(txt.flat().sort(), ['token-1', 'token-2']);
  await dns.clearTxt('_acme-challenge.example.test');
  await assert.rejects(resolver.resolveTxt('_acme-challenge.example.test'), { code: 'ENODATA' });

  // Unknown names resolve to 127.0.0.1 only: no AAAA, so nothing ever goes to ::1.
  assert.deepEqual(await resolver.resolve4('anything.example.test'), ['127.0.0.1']);
  await assert.rejects(resolver.resolve6('anything.example.test'), { code: 'ENODATA' });

  await dns.addA('a.example.test', '127.0.0.2');
  await dns.setCname('alias.example.test', 'a.example.test');
  assert.deepEqual(await resolver.resolveCname('alias.example.test'), ['a.example.test']);
  assert.deepEqual(await resolver.resolve4('alias.example.test'), ['127.0.0.2']);
  await dns.clearCname('alias.example.test');
  await assert.rejects(resolver.resolveCname('alias.example.test'), { code: 'ENODATA' });
});
