import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type BindServer, startBind } from '../support/bind.ts';
import { installedCli, runCli } from '../support/cli.ts';
import { type FakeLinode, startFakeLinode } from '../support/fake-cloud/linode.ts';
import { createTestCa, type TestCa } from '../support/test-ca.ts';

// `acmekit dns check PROVIDER -d NAME`, no CA involved: against a real BIND (rfc2136) and against a
// provider's fake API, for success and for each kind of failure.

const SECRET = randomBytes(30).toString('base64'); // the canary: never printed
const TOKEN = `linode-${randomBytes(12).toString('hex')}`;
let bind: BindServer;
let bin: string;
let ca: TestCa;
let linode: FakeLinode;

before(async () => {
  ca = await createTestCa();
  [bin, bind, linode] = await Promise.all([
    installedCli(),
    startBind({
      keys: [{ name: 'check-key.', algorithm: 'hmac-sha256', secret: SECRET }],
      zones: [{ name: 'example.test.' }, { name: 'other.test.' }],
    }),
    startFakeLinode({ ca, domains: ['example.test'], tokens: { [TOKEN]: {} } }),
  ]);
});
after(async () => {
  await bind?.stop();
  await linode?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

const rfc2136 = (secret = SECRET) => ({
  RFC2136_NAMESERVER: `127.0.0.1:${bind.port}`,
  RFC2136_TSIG_KEY: 'check-key.',
  RFC2136_TSIG_SECRET: secret,
  RFC2136_TSIG_ALGORITHM: 'hmac-sha256.',
  RFC2136_POLLING_INTERVAL: '0.1',
  RFC2136_PROPAGATION_TIMEOUT: '2',
});
const resolvers = () => ['--dns.resolvers', `127.0.0.1:${bind.port}`];

test('dns check on BIND: each step ok with its time, the test value removed, --json too', async () => {
  const r = await runCli(bin, ['dns', 'check', 'rfc2136', '-d', 'www.example.test', ...resolvers()], {
    env: rfc2136(),
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^www\.example\.test: _acme-challenge\.www\.example\.test\. in zone example\.test\.$/m,
  );
  for (const step of ['find the zone', 'add a test TXT record', 'see it on every nameserver', 'remove it'])
    assert.match(r.stdout, new RegExp(`ok +${step}.* \\d+(\\.\\d)? m?s`));
  assert.deepEqual(await bind.txt('_acme-challenge.www.example.test.'), [], 'removed');
  const json = await runCli(
    bin,
    ['dns', 'check', 'rfc2136', '-d', 'example.test', ...resolvers(), '--json'],
    {
      env: rfc2136(),
    },
  );
  assert.equal(json.code, 0, json.stderr);
  const doc = JSON.parse(json.stdout);
  assert.equal(doc.ok, true);
  assert.deepEqual(
    doc.checks[0].steps.map((s: { step: string; ok: boolean }) => [s.step, s.ok]),
    [
      ['record', true],
      ['present', true],
      ['propagation', true],
      ['cleanup', true],
    ],
  );
  assert.ok(!`${r.stdout}${r.stderr}${json.stdout}`.includes(SECRET));
});

test('dns check: a wrong TSIG secret fails the add step with the reason, exit 1, secret never shown', async () => {
  const wrong = randomBytes(30).toString('base64');
  const r = await runCli(bin, ['dns', 'check', 'rfc2136', '-d', 'example.test', ...resolvers()], {
    env: rfc2136(wrong),
  });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /FAILED add a test TXT record/);
  assert.match(r.stdout, /rfc2136: present: .*(BADSIG|BADKEY|NOTAUTH|refused)/i);
  assert.ok(!`${r.stdout}${r.stderr}`.includes(wrong) && !`${r.stdout}${r.stderr}`.includes(SECRET));
});

test('dns check: a record that never shows names each nameserver and what it answered', async (t) => {
  // An exec program that claims success and writes nothing.
  const program = join(ca.dir, 'noop.sh');
  await writeFile(program, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  t.after(() => rm(program, { force: true }));
  const r = await runCli(
    bin,
    ['dns', 'check', 'exec', '-d', 'example.test', ...resolvers(), '--dns.propagation.disable-rns'],
    {
      env: { EXEC_PATH: program, EXEC_PROPAGATION_TIMEOUT: '1', EXEC_POLLING_INTERVAL: '0.2' },
    },
  );
  assert.equal(r.code, 1);
  assert.match(r.stdout, /ok +add a test TXT record/);
  assert.match(r.stdout, /FAILED see it on every nameserver/);
  assert.match(r.stdout, /not visible on every nameserver/);
  assert.match(r.stdout, /ok +remove it/);
});

test('dns check against a provider API (fake Linode): success, then a refused token, then a zone not in the account', async () => {
  const env = {
    LINODE_TOKEN: TOKEN,
    LINODE_API_URL: linode.apiUrl,
    ACMEKIT_DNS_CA_BUNDLE: ca.rootPath,
  };
  // The fake API is not the DNS server: only its answers are checked, propagation just waits.
  const wait = ['--dns.propagation.wait', '10ms'];
  const ok = await runCli(bin, ['dns', 'check', 'linode', '-d', 'example.test', ...resolvers(), ...wait], {
    env,
  });
  assert.equal(ok.code, 0, `${ok.stdout}${ok.stderr}`);
  assert.match(ok.stdout, /ok +add a test TXT record/);
  assert.deepEqual(await linode.values('_acme-challenge.example.test'), [], 'removed from the API');

  const refused = await runCli(
    bin,
    ['dns', 'check', 'linode', '-d', 'example.test', ...resolvers(), ...wait],
    {
      env: { ...env, LINODE_TOKEN: 'linode-wrong' },
    },
  );
  assert.equal(refused.code, 1);
  assert.match(refused.stdout, /FAILED add a test TXT record/);
  assert.match(refused.stdout, /credentials refused .*Invalid Token.*check LINODE_TOKEN/);
  assert.ok(!`${refused.stdout}${refused.stderr}${ok.stdout}`.includes(TOKEN));

  const elsewhere = await runCli(
    bin,
    ['dns', 'check', 'linode', '-d', 'x.other.test', ...resolvers(), ...wait],
    { env },
  );
  assert.equal(elsewhere.code, 1);
  assert.match(elsewhere.stdout, /domain other\.test is not in the Linode account of LINODE_TOKEN/);
});
