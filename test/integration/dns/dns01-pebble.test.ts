import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { DnsProvider, TxtRecord } from '../../../src/dns/index.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { queryDns } from '../../../src/dns/wire/client.ts';
import { findZone, followCnames } from '../../../src/dns/zone.ts';
import {
  type Account,
  AcmeClient,
  Dns01Solver,
  DnsPropagationError,
  obtainCertificate,
} from '../../../src/index.ts';
import { type BindServer, startBind } from '../../support/bind.ts';
import { opensslText } from '../../support/openssl.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';

// The dns-01 flow end to end: a real BIND 9 is authoritative for example.test and alias.test, Pebble
// validates against it, and the records go in through RFC 2136 UPDATE (or nsupdate through exec).
const SECRET = randomBytes(32).toString('base64');
let bind: BindServer;
let pebble: PebbleServer;
let client: AcmeClient;
let account: Account;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acmekit-dns01-'));
  bind = await startBind({
    zones: [
      {
        name: 'example.test.',
        records: [
          // Delegated validation. BIND without recursion does not chase a CNAME into another zone, so
          // Pebble can only validate one that stays in this zone; the cross-zone one is checked by lookup.
          '_acme-challenge.delegated CNAME _acme-challenge.target.acme.example.test.',
          '_acme-challenge.cross CNAME _acme-challenge.target.alias.test.',
          '_acme-challenge.loop CNAME _acme-challenge.loop2.example.test.',
          '_acme-challenge.loop2 CNAME _acme-challenge.loop.example.test.',
        ],
      },
      { name: 'alias.test.' },
      { name: 'other.test.' },
    ],
    keys: [{ name: 'acme-key.', algorithm: 'hmac-sha256', secret: SECRET }],
  });
  pebble = await startPebble({ dnsServer: `127.0.0.1:${bind.port}`, authzReuse: 0 });
  client = new AcmeClient(pebble.directoryUrl, { caBundle: pebble.caBundle });
  account = await client.createAccount({ acceptTos: true });
});
after(async () => {
  client?.close();
  await pebble?.stop();
  await bind?.stop();
  await rm(dir, { recursive: true, force: true });
});

const rfc2136 = () =>
  createDnsProvider('rfc2136', {
    env: {
      RFC2136_NAMESERVER: `${bind.host}:${bind.port}`,
      RFC2136_TSIG_KEY: 'acme-key.',
      RFC2136_TSIG_SECRET: SECRET,
      RFC2136_TSIG_ALGORITHM: 'hmac-sha256.',
    },
  });

/** A provider wrapper that counts calls, to see which provider served which name. */
function counting(inner: DnsProvider, log: string[], tag: string): DnsProvider {
  return {
    present(r: TxtRecord, s: AbortSignal) {
      log.push(`${tag} present ${r.fqdn}`);
      return inner.present(r, s);
    },
    cleanup(r: TxtRecord, s: AbortSignal) {
      log.push(`${tag} cleanup ${r.fqdn}`);
      return inner.cleanup(r, s);
    },
  };
}

const solverOpts = () => ({
  resolvers: [`${bind.host}:${bind.port}`],
  propagation: { intervalMs: 100, timeoutMs: 10_000 },
});

test('D8: example.test + *.example.test through rfc2136: both values at one name, checked on BIND, removed after', async () => {
  const solver = new Dns01Solver({ provider: await rfc2136(), ...solverOpts() });
  const result = await obtainCertificate(account, {
    names: ['example.test', '*.example.test'],
    solvers: [solver],
  });
  const text = await opensslText(result.certificate);
  assert.match(text, /DNS:example\.test/);
  assert.match(text, /DNS:\*\.example\.test/);
  assert.deepEqual(await bind.txt('_acme-challenge.example.test.'), [], 'records are gone afterwards');
});

test('D8: the propagation check asks the authoritative nameserver directly (NS lookup, glue, RD=0)', async () => {
  const { authoritativeServers, waitForTxt } = await import('../../../src/dns/propagation.ts');
  const servers = await authoritativeServers('example.test.', {
    resolvers: [bind.server],
    port: bind.port,
  });
  assert.deepEqual(
    servers.map((s) => `${s.name} ${s.host}:${s.port}`),
    [`ns1.example.test. 127.0.0.1:${bind.port}`],
  );
  const provider = (await rfc2136()).provider;
  const record = {
    fqdn: '_acme-challenge.direct.example.test.',
    zone: 'example.test.',
    name: '_acme-challenge.direct',
    value: 'd'.repeat(43),
    ttl: 60,
  };
  await provider.present(record, new AbortController().signal);
  await waitForTxt(record.fqdn, [record.value], servers, {
    resolvers: [bind.server],
    timeoutMs: 5000,
    intervalMs: 100,
    signal: new AbortController().signal,
  });
  const answer = await queryDns(servers[0]!, record.fqdn, 'TXT', { recursionDesired: false });
  assert.equal(answer.authoritative, true);
  await provider.cleanup(record, new AbortController().signal);
});

test('D9: alias mode: the CNAME on _acme-challenge is followed; the record goes where it points', async () => {
  const log: string[] = [];
  const provider = counting((await rfc2136()).provider, log, 'rfc2136');
  const solver = new Dns01Solver({ provider, ...solverOpts() });
  await obtainCertificate(account, { names: ['delegated.example.test'], solvers: [solver] });
  assert.deepEqual(log, [
    'rfc2136 present _acme-challenge.target.acme.example.test.',
    'rfc2136 cleanup _acme-challenge.target.acme.example.test.',
  ]);
});

test('alias mode into another zone: the zone of the CNAME target is found by its SOA', async () => {
  const lookup = { resolvers: [bind.server] };
  const target = await followCnames('_acme-challenge.cross.example.test', lookup);
  assert.equal(target, '_acme-challenge.target.alias.test.');
  assert.equal(await findZone(target, lookup), 'alias.test.');
  assert.equal(await findZone('_acme-challenge.deep.er.example.test.', lookup), 'example.test.');
});

test('one certificate across two providers: rfc2136 for example.test, exec driving nsupdate for other.test', async () => {
  const keyFile = join(dir, 'acme.key');
  await writeFile(keyFile, `key "acme-key." { algorithm hmac-sha256; secret "${SECRET}"; };\n`, {
    mode: 0o600,
  });
  const script = join(dir, 'nsupdate.sh');
  await writeFile(
    script,
    [
      '#!/bin/sh',
      'set -e',
      'case "$1" in present) op=add ;; cleanup) op=delete ;; *) exit 2 ;; esac',
      `printf 'server ${bind.host} ${bind.port}\\nupdate %s %s 60 TXT "%s"\\nsend\\n' "$op" "$2" "$3" | nsupdate -k ${keyFile}`,
      '',
    ].join('\n'),
  );
  await chmod(script, 0o755);
  const log: string[] = [];
  const exec = await createDnsProvider('exec', { env: { EXEC_PATH: script } });
  const solvers = [
    new Dns01Solver({
      provider: counting((await rfc2136()).provider, log, 'rfc2136'),
      domains: ['example.test'],
      ...solverOpts(),
    }),
    new Dns01Solver({
      provider: counting(exec.provider, log, 'exec'),
      domains: ['other.test'],
      ...solverOpts(),
    }),
  ];
  const result = await obtainCertificate(account, {
    names: ['split.example.test', 'split.other.test'],
    solvers,
  });
  assert.match(await opensslText(result.certificate), /DNS:split\.other\.test/);
  assert.deepEqual(log.filter((l) => l.includes('present')).sort(), [
    'exec present _acme-challenge.split.other.test.',
    'rfc2136 present _acme-challenge.split.example.test.',
  ]);
  assert.deepEqual(await bind.txt('_acme-challenge.split.other.test.'), [], 'nsupdate removed it');
});

test('a record that never appears: DnsPropagationError says what the nameserver answers; cleanup still runs', async () => {
  const log: string[] = [];
  // A provider that claims success but writes nothing.
  const liar: DnsProvider = { present: async () => {}, cleanup: async () => {} };
  const solver = new Dns01Solver({
    provider: counting(liar, log, 'liar'),
    resolvers: [`${bind.host}:${bind.port}`],
    propagation: { intervalMs: 100, timeoutMs: 500 },
  });
  await assert.rejects(
    obtainCertificate(account, { names: ['never.example.test'], solvers: [solver] }),
    (e: Error) => {
      assert.ok(e instanceof DnsPropagationError, String(e));
      assert.match(e.message, /TXT _acme-challenge\.never\.example\.test\. not visible/);
      assert.match(e.message, /has no TXT record there/);
      return true;
    },
  );
  assert.deepEqual(log, [
    'liar present _acme-challenge.never.example.test.',
    'liar cleanup _acme-challenge.never.example.test.',
  ]);
});

test('a CNAME loop on _acme-challenge fails with the loop spelled out, before any record is written', async () => {
  const log: string[] = [];
  const solver = new Dns01Solver({
    provider: counting((await rfc2136()).provider, log, 'rfc2136'),
    ...solverOpts(),
  });
  await assert.rejects(
    obtainCertificate(account, { names: ['loop.example.test'], solvers: [solver] }),
    /CNAME loop: _acme-challenge\.loop\.example\.test\. → _acme-challenge\.loop2\.example\.test\. → _acme-challenge\.loop\.example\.test\./,
  );
  assert.deepEqual(log, []);
});
