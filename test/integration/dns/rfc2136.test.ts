import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { TxtRecord } from '../../../src/dns/provider.ts';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { exchange, queryDns } from '../../../src/dns/wire/client.ts';
import { RecordClass, RecordType } from '../../../src/dns/wire/message.ts';
import { DnsProviderError, InvalidInputError, TimeoutError } from '../../../src/errors/index.ts';
import type { Logger } from '../../../src/internal/logger.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type BindServer, startBind } from '../../support/bind.ts';

const run = promisify(execFile);
const live = (): AbortSignal => new AbortController().signal;
// Chosen here, not by startBind: the contract suite needs its canaries when it declares its tests.
const acmeSecret = randomBytes(32).toString('base64');
const bigValues = Array.from({ length: 12 }, (_, i) => `${String(i).padStart(2, '0')}${'b'.repeat(200)}`);

// One BIND for the whole file: started before the suites below are declared, so the contract suite
// (which declares its tests at once) can use it through closures.
let bind: BindServer;
let fileKey: { path: string; dir: string; secret: string };
const logLines: string[] = [];
const logger: Logger = {
  debug: (o, m) => logLines.push(JSON.stringify([o, m])),
  info: (o, m) => logLines.push(JSON.stringify([o, m])),
  warn: (o, m) => logLines.push(JSON.stringify([o, m])),
  error: (o, m) => logLines.push(JSON.stringify([o, m])),
};

before(async () => {
  // A key file written by BIND's own tsig-keygen: the provider must read that format.
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-tsig-file-'));
  const { stdout } = await run('tsig-keygen', ['-a', 'hmac-sha384', 'file-key.']);
  await writeFile(join(dir, 'file-key.key'), `# written by tsig-keygen\n${stdout}`);
  const secret = /secret "([^"]+)"/.exec(stdout)?.[1];
  assert.ok(secret, stdout);
  fileKey = { path: join(dir, 'file-key.key'), dir, secret };
  bind = await startBind({
    zones: [
      {
        name: 'example.test.',
        records: [
          ...bigValues.map((v) => `big TXT "${v}"`),
          '_acme-challenge.alias CNAME _acme-challenge.alias.test.',
        ],
      },
      { name: 'alias.test.' },
    ],
    keys: [
      { name: 'acme-key.', secret: acmeSecret },
      { name: 'sha1-key.', algorithm: 'hmac-sha1' },
      { name: 'sha224-key.', algorithm: 'hmac-sha224' },
      { name: 'sha384-key.', algorithm: 'hmac-sha384' },
      { name: 'sha512-key.', algorithm: 'hmac-sha512' },
      { name: 'file-key.', algorithm: 'hmac-sha384', secret },
      { name: 'readonly-key.', canUpdate: false },
    ],
  });
});
after(async () => {
  await bind?.stop();
  if (fileKey) await rm(fileKey.dir, { recursive: true, force: true });
});

const keyOf = (name: string) => bind.keys.find((k) => k.name === name)!;
const envFor = (keyName = 'acme-key.', extra: Record<string, string> = {}): Record<string, string> => {
  const k = keyOf(keyName);
  return {
    RFC2136_NAMESERVER: `${bind.host}:${bind.port}`,
    RFC2136_TSIG_KEY: k.name,
    RFC2136_TSIG_SECRET: k.secret,
    RFC2136_TSIG_ALGORITHM: `${k.algorithm}.`,
    RFC2136_DNS_TIMEOUT: '5',
    ...extra,
  };
};
const create = async (env: Record<string, string>, code = 'rfc2136') =>
  (await createDnsProvider(code, { env, logger })).provider;
let n = 0;
const record = (zone = 'example.test.', label = `t${Date.now().toString(36)}${n++}`): TxtRecord => ({
  fqdn: `_acme-challenge.${label}.${zone}`,
  zone,
  name: `_acme-challenge.${label}`,
  value: `value-${label}-${'x'.repeat(20)}`,
  ttl: 60,
});
const failure = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );
const badSecret = Buffer.alloc(32, 0x5a).toString('base64');

dnsProviderContract({
  name: 'rfc2136 on BIND',
  zone: 'example.test.',
  create: () => create(envFor()),
  values: (fqdn) => bind.txt(fqdn),
  createWithBadCredentials: () => create(envFor('acme-key.', { RFC2136_TSIG_SECRET: badSecret })),
  canaries: [acmeSecret, badSecret],

  logs: () => logLines.join('\n'),
});

describe('rfc2136 on BIND', () => {
  for (const [keyName, algorithm] of [
    ['sha1-key.', 'hmac-sha1'],
    ['sha224-key.', 'hmac-sha224'],
    ['acme-key.', 'hmac-sha256'],
    ['sha384-key.', 'hmac-sha384'],
    ['sha512-key.', 'hmac-sha512'],
  ] as const) {
    test(`${algorithm} (key ${keyName}): present and cleanup work`, async () => {
      const p = await create(envFor(keyName));
      const r = record();
      await p.present(r, live());
      assert.deepEqual(await bind.txt(r.fqdn), [r.value]);
      await p.cleanup(r, live());
      assert.deepEqual(await bind.txt(r.fqdn), []);
    });
  }

  test('the alias dnsupdate, an algorithm written without the dot in upper case, the default algorithm', async () => {
    const r = record();
    const viaAlias = await create(
      envFor('acme-key.', { RFC2136_TSIG_ALGORITHM: 'HMAC-SHA256' }),
      'dnsupdate',
    );
    await viaAlias.present(r, live());
    const { RFC2136_TSIG_ALGORITHM: _, ...withoutAlgorithm } = envFor('acme-key.');
    await (await create(withoutAlgorithm)).cleanup(r, live());
    assert.deepEqual(await bind.txt(r.fqdn), []);
  });

  test('a key from RFC2136_TSIG_FILE (tsig-keygen output) works', async () => {
    const p = await create({
      RFC2136_NAMESERVER: `${bind.host}:${bind.port}`,
      RFC2136_TSIG_FILE: fileKey.path,
    });
    const r = record();
    await p.present(r, live());
    assert.deepEqual(await bind.txt(r.fqdn), [r.value]);
    await p.cleanup(r, live());
    assert.deepEqual(await bind.txt(r.fqdn), []);
  });

  test('the record in another zone (after CNAME following): record.zone decides where the update goes', async () => {
    const p = await create(envFor());
    const r: TxtRecord = {
      ...record('alias.test.', 'x'),
      fqdn: '_acme-challenge.alias.test.',
      name: '_acme-challenge',
    };
    await p.present(r, live());
    const seen = await queryDns(bind.server, '_acme-challenge.alias.example.test.', 'TXT', {
      recursionDesired: false,
    });
    assert.equal(seen.answers[0]?.typeName, 'CNAME', 'BIND answers the CNAME; the solver follows it');
    assert.deepEqual(await bind.txt(r.fqdn), [r.value]);
    await p.cleanup(r, live());
  });

  test('propagation view: after present, a non-recursive query has the value with AA set', async () => {
    const p = await create(envFor());
    const r = record();
    await p.present(r, live());
    const res = await queryDns(bind.server, r.fqdn, 'TXT', { recursionDesired: false });
    assert.equal(res.rcodeName, 'NOERROR');
    assert.equal(res.authoritative, true);
    assert.deepEqual(
      res.answers.flatMap((rr) => (rr.typeName === 'TXT' ? [[rr.name, rr.ttl, rr.data.text]] : [])),
      [[r.fqdn, 60, r.value]],
    );
    await p.cleanup(r, live());
    const gone = await queryDns(bind.server, r.fqdn, 'TXT', { recursionDesired: false });
    assert.equal(gone.rcodeName, 'NXDOMAIN');
  });

  test('a key BIND does not know: BADKEY, and the message names the key', async () => {
    const env = envFor('acme-key.', { RFC2136_TSIG_KEY: 'nobody-key' });
    const err = await failure((await create(env)).present(record(), live()));
    assert.ok(err instanceof DnsProviderError, String(err));
    assert.equal(err.status, 'BADKEY');
    assert.match(err.message, /^rfc2136: present: the server does not know TSIG key nobody-key\./);
  });

  test('the right key with another algorithm is BADKEY too', async () => {
    const err = await failure(
      (await create(envFor('acme-key.', { RFC2136_TSIG_ALGORITHM: 'hmac-sha512' }))).present(
        record(),
        live(),
      ),
    );
    assert.ok(err instanceof DnsProviderError);
    assert.equal(err.status, 'BADKEY');
    assert.match(err.message, /acme-key\. \(hmac-sha512\.\)/);
  });

  test('D8: a wrong secret: BADSIG, "wrong TSIG secret", no secret in the error', async () => {
    const err = await failure(
      (await create(envFor('acme-key.', { RFC2136_TSIG_SECRET: badSecret }))).cleanup(record(), live()),
    );
    assert.ok(err instanceof DnsProviderError);
    assert.equal(err.operation, 'cleanup');
    assert.equal(err.status, 'BADSIG');
    assert.match(err.message, /wrong TSIG secret for key acme-key\./);
    const text = `${err.message} ${err.stack} ${JSON.stringify(err)}`;
    assert.ok(!text.includes(badSecret) && !text.includes(keyOf('acme-key.').secret));
  });

  test('a key without update rights: REFUSED pointing at update-policy', async () => {
    const err = await failure((await create(envFor('readonly-key.'))).present(record(), live()));
    assert.ok(err instanceof DnsProviderError);
    assert.equal(err.status, 'REFUSED');
    assert.match(
      err.message,
      /refused the update for zone example\.test\.: check allow-update\/update-policy/,
    );
  });

  test('a zone BIND does not serve: NOTAUTH; a name outside the zone: NOTZONE', async () => {
    const p = await create(envFor());
    const notServed = await failure(p.present(record('elsewhere.test.'), live()));
    assert.ok(notServed instanceof DnsProviderError);
    assert.equal(notServed.status, 'NOTAUTH');
    assert.match(notServed.message, /not authoritative for zone elsewhere\.test\./);
    const outside = await failure(p.present({ ...record(), zone: 'alias.test.' }, live()));
    assert.ok(outside instanceof DnsProviderError);
    assert.equal(outside.status, 'NOTZONE');
  });

  test('no TSIG configured: BIND refuses the unsigned update', async () => {
    const p = await create({ RFC2136_NAMESERVER: `${bind.host}:${bind.port}` });
    const err = await failure(p.present(record(), live()));
    assert.ok(err instanceof DnsProviderError);
    assert.equal(err.status, 'REFUSED');
    assert.match(err.message, /no TSIG key is set/);
  });

  test('TCP fallback: a TXT RRset larger than the UDP limit comes back whole', async () => {
    const res = await queryDns(bind.server, 'big.example.test.', 'TXT', { recursionDesired: false });
    assert.equal(res.truncated, false);
    assert.deepEqual(
      res.answers.map((rr) => (rr.typeName === 'TXT' ? rr.data.text : '')).sort(),
      [...bigValues].sort(),
    );
    // The same question by hand over UDP comes back truncated, so the client did use TCP.
    const viaExchange = await exchange(bind.server, {
      id: 4242,
      questions: [{ name: 'big.example.test.', type: RecordType.TXT, class: RecordClass.IN }],
      edns: { udpPayloadSize: 1232 },
    });
    assert.equal(viaExchange.transport, 'tcp');
  });

  describe('a nameserver that never answers', () => {
    let silent: Socket;
    before(async () => {
      silent = createSocket('udp4');
      await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    });
    after(() => silent.close());

    test('DnsProviderError naming it, within the timeout', async () => {
      const port = silent.address().port;
      const p = await create(
        envFor('acme-key.', { RFC2136_NAMESERVER: `127.0.0.1:${port}`, RFC2136_DNS_TIMEOUT: '1' }),
      );
      const started = Date.now();
      const err = await failure(p.present(record(), live()));
      const elapsed = Date.now() - started;
      assert.ok(err instanceof DnsProviderError, String(err));
      assert.ok(err.cause instanceof TimeoutError);
      assert.equal(err.status, undefined, 'no RCODE: the server did not answer');
      assert.match(err.message, new RegExp(`nameserver 127\\.0\\.0\\.1:${port} did not answer within 1 s`));
      assert.ok(elapsed >= 900 && elapsed < 4000, `${elapsed} ms`);
    });

    test('an abort while waiting rejects promptly with the signal reason', async () => {
      const port = silent.address().port;
      const p = await create(
        envFor('acme-key.', { RFC2136_NAMESERVER: `127.0.0.1:${port}`, RFC2136_DNS_TIMEOUT: '30' }),
      );
      const ac = new AbortController();
      const reason = new Error('shutting down');
      setTimeout(() => ac.abort(reason), 100);
      const started = Date.now();
      await assert.rejects(p.present(record(), ac.signal), (e) => e === reason);
      assert.ok(Date.now() - started < 2000);
    });
  });
});

describe('rfc2136 configuration (no network)', () => {
  const base = { RFC2136_NAMESERVER: '127.0.0.1:5353' };
  const configError = async (env: Record<string, string>) => {
    const err = await failure(createDnsProvider('rfc2136', { env }));
    assert.ok(err instanceof InvalidInputError, String(err));
    return err;
  };

  test('a key name without a secret, and a secret without a key name, name the missing variable', async () => {
    const a = await configError({ ...base, RFC2136_TSIG_KEY: 'acme-key.' });
    assert.equal(a.value, 'RFC2136_TSIG_SECRET');
    assert.match(a.message, /RFC2136_TSIG_SECRET is not/);
    const canary = Buffer.alloc(32, 1).toString('base64');
    const b = await configError({ ...base, RFC2136_TSIG_SECRET: canary });
    assert.equal(b.value, 'RFC2136_TSIG_KEY');
    assert.ok(!b.message.includes(canary));
  });

  test('unknown algorithm, bad base64, missing or bad nameserver', async () => {
    const alg = await configError({
      ...base,
      RFC2136_TSIG_KEY: 'k',
      RFC2136_TSIG_SECRET: 'AAAA',
      RFC2136_TSIG_ALGORITHM: 'hmac-md5',
    });
    assert.match(alg.message, /unknown TSIG algorithm "hmac-md5"; use one of hmac-sha1\., .*hmac-sha512\./);
    const canary = 'not!base64?canary';
    const b64 = await configError({ ...base, RFC2136_TSIG_KEY: 'k', RFC2136_TSIG_SECRET: canary });
    assert.match(b64.message, /RFC2136_TSIG_SECRET is not valid base64/);
    assert.ok(!`${b64.message}${JSON.stringify(b64)}`.includes(canary));
    assert.match((await configError({})).message, /RFC2136_NAMESERVER is not set/);
    assert.match(
      (await configError({ RFC2136_NAMESERVER: '127.0.0.1:99999' })).message,
      /RFC2136_NAMESERVER/,
    );
  });

  test('key files: several keys need RFC2136_TSIG_KEY; a file and a secret together are refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'acmekit-keys-'));
    try {
      const path = join(dir, 'keys.conf');
      const canary = Buffer.alloc(32, 3).toString('base64');
      await writeFile(
        path,
        [
          '/* two keys */ key "one." { algorithm hmac-sha256; secret "AAAA"; };',
          `key two { algorithm HMAC-SHA512; // comment\n secret "${canary}"; };`,
          'options { directory "/x"; };',
        ].join('\n'),
      );
      const many = await configError({ ...base, RFC2136_TSIG_FILE: path });
      assert.match(many.message, /2 keys; set RFC2136_TSIG_KEY/);
      const chosen = await createDnsProvider('rfc2136', {
        env: { ...base, RFC2136_TSIG_FILE: path, RFC2136_TSIG_KEY: 'TWO' },
      });
      assert.ok(chosen.provider);
      const missing = await configError({ ...base, RFC2136_TSIG_FILE: path, RFC2136_TSIG_KEY: 'three' });
      assert.match(missing.message, /no key named three\. \(it has one\., two\.\)/);
      const both = await configError({ ...base, RFC2136_TSIG_FILE: path, RFC2136_TSIG_SECRET: canary });
      assert.match(both.message, /not both/);
      const clash = await configError({
        ...base,
        RFC2136_TSIG_FILE: path,
        RFC2136_TSIG_KEY: 'one',
        RFC2136_TSIG_ALGORITHM: 'hmac-sha1',
      });
      assert.match(clash.message, /uses hmac-sha256\./);
      await writeFile(path, 'key "broken" { algorithm hmac-sha256; secret "unterminated; };');
      const broken = await configError({ ...base, RFC2136_TSIG_FILE: path });
      assert.match(broken.message, /RFC2136_TSIG_FILE/);
      for (const e of [many, missing, both, clash, broken])
        assert.ok(!`${e.message}${JSON.stringify(e)}`.includes(canary));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
