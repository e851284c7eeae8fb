import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { makeClient } from '../../../src/cli/client.ts';
import { flags, type OptionName } from '../../../src/cli/flags.ts';
import { commandHelpText, helpTopics } from '../../../src/cli/help.ts';
import { main } from '../../../src/cli/main.ts';
import { Options } from '../../../src/cli/options.ts';
import { Output } from '../../../src/cli/output.ts';
import {
  applyConfig,
  applyDefaults,
  applyEnvironment,
  checkUnsupported,
  envNames,
  notAppliedNotes,
  type ParsedArgs,
  parseArgs,
  parseDurationSeconds,
} from '../../../src/cli/parse-args.ts';
import { solversFor } from '../../../src/cli/solvers.ts';
import { buildCsr, parseCsr } from '../../../src/crypto/csr.ts';
import { InvalidInputError } from '../../../src/errors/base.ts';
import { UsageError } from '../../../src/errors/usage.ts';
import {
  certificateFiles,
  locateCertificate,
  writeRecord,
} from '../../../src/lifecycle/certificate-files.ts';
import { buildPfx, type PfxFormat } from '../../../src/lifecycle/pfx.ts';
import {
  type CertificateRecord,
  decodeCertificateRecord,
  encodeCertificateRecord,
} from '../../../src/storage/lego/certificate-record.ts';
import { MemoryStore } from '../../../src/storage/memory-store.ts';

/** The options of a lego command line once environment, config and defaults are applied, as main() does. */
function resolved(argv: string[], env: NodeJS.ProcessEnv = {}, config?: Record<string, unknown>): ParsedArgs {
  const p = parseArgs(argv);
  applyEnvironment(p, env);
  if (config) applyConfig(p, config, 'acmekit.yaml');
  applyDefaults(p);
  return p;
}

const quietOut = (): Output => new Output({ json: false, quiet: true, stdout: devNull(), stderr: devNull() });
function devNull(): NodeJS.WritableStream {
  return { write: () => true } as unknown as NodeJS.WritableStream;
}

// The lego flags this change adds, in lego v4's spelling with a value each, and the option they set.
const NEW_FLAGS: [string[], OptionName, unknown][] = [
  [['--http-timeout', '12'], 'httpTimeout', 12],
  [['--cert.timeout', '45'], 'certTimeout', 45],
  [['--user-agent', 'myapp/1.0'], 'userAgent', 'myapp/1.0'],
  [['--filename', 'site'], 'filename', 'site'],
  [['--not-before', '2030-01-01T00:00:00Z'], 'notBefore', '2030-01-01T00:00:00Z'],
  [['--not-after', '2030-02-01T00:00:00+01:00'], 'notAfter', '2030-02-01T00:00:00+01:00'],
  [['--private-key', '/etc/keys/site.key'], 'privateKey', '/etc/keys/site.key'],
  [['--always-deactivate-authorizations', 'true'], 'alwaysDeactivateAuthorizations', true],
  [['--disable-cn'], 'disableCn', true],
  [['--overall-request-limit', '18'], 'overallRequestLimit', 18],
  [['--pfx.format', 'SHA256'], 'pfxFormat', 'SHA256'],
  [['--ari-wait-to-renew-duration', '1h30m'], 'ariWaitToRenew', 5400],
  [['--force-cert-domains'], 'forceCertDomains', true],
  [['--http.delay', '5s'], 'httpDelay', 5],
  [['--tls.delay', '250ms'], 'tlsDelay', 0.25],
  [['--http.proxy-header', 'X-Forwarded-Host'], 'httpProxyHeader', 'X-Forwarded-Host'],
  [['--run-hook-timeout', '2m0s'], 'deployHookTimeout', 120],
  [['--dynamic'], 'dynamic', true],
];

describe('lego flags that scripts use are accepted', () => {
  it('in lego v4 position (before the command) and v5 position (after it), with the same result', () => {
    const common = ['-d', 'a.example', '--http'];
    const v4 = parseArgs([...common, ...NEW_FLAGS.flatMap(([f]) => f), 'run']);
    const v5 = parseArgs(['run', ...common, ...NEW_FLAGS.flatMap(([f]) => f)]);
    assert.deepEqual(v4.command, ['run']);
    assert.deepEqual(v5.options, v4.options);
    for (const [argv, name, value] of NEW_FLAGS) assert.deepEqual(v4.options[name], value, argv.join(' '));
  });

  it('lego v5 spellings of options acmekit already had', () => {
    const p = parseArgs([
      'run',
      '--pfx.password',
      'secret',
      '--renew-force',
      '--log.level',
      'debug',
      '--cert.name',
      'site',
      '--pre-hook-timeout',
      '10s',
      '--deploy-hook-timeout',
      '1m',
      '--post-hook-timeout',
      '30',
      '--enable-cn',
      '--env-file',
      '/etc/lego.env',
      '--dns.propagation.disable-rns',
    ]);
    assert.equal(p.options.pfxPass, 'secret');
    assert.equal(p.options.force, true);
    assert.equal(p.options.logLevel, 'debug');
    assert.equal(p.options.filename, 'site');
    assert.equal(p.options.preHookTimeout, 10);
    assert.equal(p.options.deployHookTimeout, 60);
    assert.equal(p.options.postHookTimeout, 30);
    assert.equal(p.options.enableCn, true);
    assert.equal(p.options.envFile, '/etc/lego.env');
    assert.equal(p.options.dnsPropagationDisableRns, true);
  });

  it('lego v4 renew line with --renew-hook-timeout as a Go duration', () => {
    const p = parseArgs([
      '-d',
      'a.example',
      'renew',
      '--days',
      '30',
      '--renew-hook',
      'x',
      '--renew-hook-timeout',
      '2m0s',
    ]);
    assert.equal(p.options.deployHookTimeout, 120);
    assert.equal(p.options.deployHook, 'x');
  });

  it('--always-deactivate-authorizations takes an optional true/false word, as lego (a string flag there) spells it', () => {
    assert.deepEqual(parseArgs(['--always-deactivate-authorizations', 'run']).command, ['run']);
    assert.equal(
      parseArgs(['--always-deactivate-authorizations', 'run']).options.alwaysDeactivateAuthorizations,
      true,
    );
    const off = parseArgs(['--always-deactivate-authorizations', 'false', 'run']);
    assert.equal(off.options.alwaysDeactivateAuthorizations, false);
    assert.deepEqual(off.command, ['run']);
    assert.equal(
      parseArgs(['run', '--always-deactivate-authorizations=true']).options.alwaysDeactivateAuthorizations,
      true,
    );
    // Other booleans keep lego's BoolFlag behaviour: the next word is not their value.
    assert.throws(() => parseArgs(['--disable-cn', 'true', 'run']), /unknown command "true"/);
  });

  it("lego v4's command-local short flags: -k after revoke is --keep, -a after list is --accounts", () => {
    const revoke = parseArgs(['-k', 'rsa2048', '-d', 'a.example', 'revoke', '-k']);
    assert.equal(revoke.options.keyType, 'rsa2048');
    assert.equal(revoke.options.keep, true);
    const list = parseArgs(['-a', 'list', '-a', '-n']);
    assert.equal(list.options.acceptTos, true);
    assert.equal(list.options.listAccounts, true);
    assert.equal(list.options.listNames, true);
    assert.equal(parseArgs(['run', '-a']).options.acceptTos, true);
    assert.equal(parseArgs(['run', '-a']).options.listAccounts, undefined);
  });

  it('durations: seconds or Go durations; anything else is a usage error naming the flag', () => {
    assert.equal(parseDurationSeconds('90'), 90);
    assert.equal(parseDurationSeconds('2m0s'), 120);
    assert.equal(parseDurationSeconds('1h30m'), 5400);
    assert.equal(parseDurationSeconds('1.5h'), 5400);
    assert.equal(parseDurationSeconds('10ms'), 0.01);
    assert.equal(parseDurationSeconds('soon'), undefined);
    assert.equal(parseDurationSeconds('-5s'), undefined);
    assert.equal(parseDurationSeconds('5 s'), undefined);
    assert.equal(parseArgs(['--hook-timeout', '2m', 'renew']).options.hookTimeout, 120);
    assert.equal(parseArgs(['--hook-timeout', '45', 'renew']).options.hookTimeout, 45);
    assert.equal(parseArgs(['--dns.propagation.wait', '10ms', 'run']).options.dnsPropagationWait, 0.01);
    assert.throws(
      () => parseArgs(['--http.delay', 'soon', 'run']),
      (err: unknown) => err instanceof UsageError && /--http\.delay needs a duration/.test(err.message),
    );
  });

  it('every new flag is read from the environment variable lego uses', () => {
    const p = resolved(['run'], {
      LEGO_HTTP_TIMEOUT: '12',
      LEGO_CERT_TIMEOUT: '45',
      LEGO_USER_AGENT: 'myapp/1.0',
      LEGO_CERT_NAME: 'site',
      LEGO_NOT_BEFORE: '2030-01-01T00:00:00Z',
      LEGO_NOT_AFTER: '2030-02-01T00:00:00Z',
      LEGO_PRIVATE_KEY: '/k.pem',
      LEGO_ALWAYS_DEACTIVATE_AUTHORIZATIONS: 'true',
      LEGO_PFX_FORMAT: 'DES',
      LEGO_PFX: 'true',
      LEGO_EAB: 'true',
      LEGO_ARI_WAIT_TO_RENEW_DURATION: '10m',
      LEGO_FORCE_CERT_DOMAINS: 'true',
      LEGO_HTTP_DELAY: '3s',
      LEGO_DEPLOY_HOOK_TIMEOUT: '2m0s',
      LEGO_RENEW_FORCE: 'true',
      LEGO_DOMAINS: 'a.example,b.example',
    });
    assert.equal(p.options.httpTimeout, 12);
    assert.equal(p.options.certTimeout, 45);
    assert.equal(p.options.userAgent, 'myapp/1.0');
    assert.equal(p.options.filename, 'site');
    assert.equal(p.options.notBefore, '2030-01-01T00:00:00Z');
    assert.equal(p.options.notAfter, '2030-02-01T00:00:00Z');
    assert.equal(p.options.privateKey, '/k.pem');
    assert.equal(p.options.alwaysDeactivateAuthorizations, true);
    assert.equal(p.options.pfxFormat, 'DES');
    assert.equal(p.options.pfx, true);
    assert.equal(p.options.eab, true);
    assert.equal(p.options.ariWaitToRenew, 600);
    assert.equal(p.options.forceCertDomains, true);
    assert.equal(p.options.httpDelay, 3);
    assert.equal(p.options.deployHookTimeout, 120);
    assert.equal(p.options.force, true);
    assert.deepEqual(p.options.domains, ['a.example', 'b.example']);
    assert.equal(p.sources.httpTimeout, 'environment variable LEGO_HTTP_TIMEOUT');
  });

  it('our own ACMEKIT_<NAME> comes first, and digits split the name (ACMEKIT_HTTP_S3_BUCKET, ACMEKIT_IPV4_ONLY)', () => {
    const p = resolved(['run'], { ACMEKIT_HTTP_TIMEOUT: '5', LEGO_HTTP_TIMEOUT: '12' });
    assert.equal(p.options.httpTimeout, 5);
    const byName = (n: string) => flags.find((f) => f.name === n)!;
    assert.equal(envNames(byName('httpS3Bucket'))[0], 'ACMEKIT_HTTP_S3_BUCKET');
    assert.equal(envNames(byName('ipv4Only'))[0], 'ACMEKIT_IPV4_ONLY');
    for (const f of flags) {
      const names = envNames(f);
      assert.equal(new Set(names).size, names.length, `${f.name}: ${names.join(', ')}`);
    }
  });

  it('every new flag can come from the config file; command line and environment win', () => {
    const p = resolved(
      ['run', '--http-timeout', '7'],
      { LEGO_USER_AGENT: 'env/1' },
      {
        httpTimeout: 10,
        certTimeout: '45',
        userAgent: 'config/1',
        filename: 'site',
        notAfter: '2030-02-01T00:00:00Z',
        privateKey: '/k.pem',
        disableCn: true,
        alwaysDeactivateAuthorizations: true,
        deployHookTimeout: '2m',
        hookTimeout: 60,
        httpDelay: '1m30s',
        pfxFormat: 'RC2',
      },
    );
    assert.equal(p.options.httpTimeout, 7);
    assert.equal(p.options.userAgent, 'env/1');
    assert.equal(p.options.certTimeout, 45);
    assert.equal(p.options.filename, 'site');
    assert.equal(p.options.notAfter, '2030-02-01T00:00:00Z');
    assert.equal(p.options.privateKey, '/k.pem');
    assert.equal(p.options.disableCn, true);
    assert.equal(p.options.alwaysDeactivateAuthorizations, true);
    assert.equal(p.options.deployHookTimeout, 120);
    assert.equal(p.options.hookTimeout, 60);
    assert.equal(p.options.httpDelay, 90);
    assert.equal(p.options.pfxFormat, 'RC2');
    assert.throws(
      () => applyConfig(parseArgs(['run']), { httpDelay: 'soon' }, 'acmekit.yaml'),
      /acmekit\.yaml: httpDelay needs a duration/,
    );
  });

  it('help lists every spelling of every option', () => {
    const help = helpTopics.map(commandHelpText).join('\n');
    for (const f of flags)
      for (const s of f.spellings) assert.ok(help.includes(s.length === 1 ? `-${s}` : `--${s}`), s);
  });
});

describe('lego flags acmekit cannot honour are refused with advice (exit 2), never ignored', () => {
  const refused = (p: ParsedArgs): string => {
    try {
      checkUnsupported(p);
    } catch (err) {
      assert.ok(err instanceof UsageError);
      return err.message;
    }
    assert.fail('not refused');
  };

  it('--http.memcached-host and --http.s3-bucket, from the command line, the environment or the config file', () => {
    assert.match(
      refused(resolved(['--http.memcached-host', '10.0.0.1:11211', 'run'])),
      /^--http\.memcached-host is not supported: .*memcached.*--http\.webroot DIR/,
    );
    assert.match(
      refused(resolved(['run'], { LEGO_HTTP_MEMCACHED_HOST: 'mc:11211' })),
      /^environment variable LEGO_HTTP_MEMCACHED_HOST is not supported/,
    );
    assert.match(
      refused(resolved(['run'], {}, { httpS3Bucket: 'b' })),
      /^acmekit\.yaml: httpS3Bucket is not supported: .*S3/,
    );
    assert.match(refused(resolved(['run', '--http.s3-bucket', 'my-bucket'])), /--http\.webroot DIR/);
  });

  it('--tls-skip-verify points to --ca-bundle; --tls-skip-verify=false is what acmekit does anyway', () => {
    assert.match(refused(resolved(['--tls-skip-verify', 'run'])), /--ca-bundle FILE/);
    assert.doesNotThrow(() => checkUnsupported(resolved(['--tls-skip-verify=false', 'run'])));
  });

  it('--account-id is fine only when it is the email; dns-persist-01 is refused', () => {
    assert.doesNotThrow(() =>
      checkUnsupported(resolved(['run', '-m', 'me@example.com', '--account-id', 'me@example.com'])),
    );
    assert.match(
      refused(resolved(['run', '-m', 'me@example.com', '--account-id', 'prod'])),
      /account folder after --email/,
    );
    assert.match(
      refused(resolved(['run', '--dns-persist'])),
      /dns-persist-01 is not supported; use --dns PROVIDER/,
    );
    // Two settings of a refused feature are not a "set the same option differently" conflict.
    assert.match(
      refused(
        resolved(['run', '--dns-persist.timeout', '10', '--dns-persist.issuer-domain-name', 'ca.example']),
      ),
      /^--dns-persist\.timeout is not supported/,
    );
  });

  it('main() exits 2 with the advice, before contacting any CA', async () => {
    const writes: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => {
      writes.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    let code: number;
    try {
      code = await main(
        [
          '--server',
          'https://127.0.0.1:9/dir',
          '-d',
          'a.example',
          '--http',
          '--http.memcached-host',
          'mc:11211',
          'run',
        ],
        {},
      );
    } finally {
      process.stderr.write = original;
    }
    assert.equal(code, 2);
    assert.match(writes.join(''), /error: --http\.memcached-host is not supported/);
  });

  it('flags accepted without effect say why (debug line; a warning for --ipv4only)', () => {
    const notes = notAppliedNotes(
      resolved(['run', '--overall-request-limit', '18', '-4', '--http.proxy-header', 'X-Real-Host']),
    );
    assert.deepEqual(
      notes.map((n) => [n.text.split(' ')[0], n.warn]),
      [
        ['--http.proxy-header', false],
        ['--overall-request-limit', false],
        ['-4', true],
      ],
    );
    assert.match(notes[1]!.text, /accepted but not applied: .*in flight/);
    assert.deepEqual(notAppliedNotes(resolved(['run'])), []);
  });
});

describe('what the flags do', () => {
  it('--http-timeout, --cert.timeout and --user-agent reach the ACME client; bad values are usage errors', async () => {
    const o = new Options(
      resolved([
        'run',
        '--server',
        'https://127.0.0.1:9/dir',
        '--cert.timeout',
        '45',
        '--user-agent',
        'myapp/1.0',
        '--http-timeout',
        '3',
      ]),
    );
    const client = await makeClient(o, quietOut());
    try {
      assert.equal(client.pollPolicy.timeoutMs, 45_000);
      assert.match(client.http.transport.userAgent, /^myapp\/1\.0 acmekit\//);
    } finally {
      client.close();
    }
    const bad = (argv: string[]) =>
      makeClient(new Options(resolved(['run', '--server', 'https://127.0.0.1:9/dir', ...argv])), quietOut());
    await assert.rejects(bad(['--http-timeout', '0']), /--http-timeout 0: give a number of seconds > 0/);
    await assert.rejects(bad(['--cert.timeout', '-3']), UsageError);
    await assert.rejects(bad(['--user-agent', 'bad\u0001agent']), /printable ASCII/);
    const plain = await makeClient(
      new Options(resolved(['run', '--server', 'https://127.0.0.1:9/dir'])),
      quietOut(),
    );
    assert.equal(plain.pollPolicy.timeoutMs, 300_000, 'without --cert.timeout the library default stays');
    plain.close();
  });

  it('--env-file adds its variables to the environment (for DNS providers); variables already set win', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'acmekit-envfile-'));
    const file = join(dir, 'lego.env');
    writeFileSync(file, 'ACMEKIT_T_ENVFILE_NEW=from-file\nACMEKIT_T_ENVFILE_SET="from file"\n# a comment\n');
    process.env.ACMEKIT_T_ENVFILE_SET = 'already';
    try {
      assert.equal(await main(['dns', 'list', '--quiet', '--env-file', file], {}), 0);
      assert.equal(process.env.ACMEKIT_T_ENVFILE_NEW, 'from-file');
      assert.equal(process.env.ACMEKIT_T_ENVFILE_SET, 'already');
      assert.equal(await main(['dns', 'list', '--quiet', '--env-file', join(dir, 'missing.env')], {}), 2);
    } finally {
      delete process.env.ACMEKIT_T_ENVFILE_NEW;
      delete process.env.ACMEKIT_T_ENVFILE_SET;
    }
  });

  it('--http.delay makes the http-01 solver wait before the CA is asked, and is remembered for renewals', async () => {
    const o = new Options(
      resolved(['run', '--http', '--http.address', '127.0.0.1:5002', '--http.delay', '60ms']),
    );
    const chosen = await solversFor(o, quietOut());
    assert.ok(chosen);
    assert.deepEqual(chosen.challenge, { type: 'http-01', httpAddress: '127.0.0.1:5002', delayMs: 60 });
    const solver = chosen.solvers[0]!;
    assert.equal(solver.type, 'http-01');
    const started = performance.now();
    await solver.wait?.(
      { identifier: { type: 'dns', value: 'a.example' } } as never,
      new AbortController().signal,
    );
    assert.ok(performance.now() - started >= 55, 'waited the delay');
    const none = await solversFor(new Options(resolved(['run', '--http'])), quietOut());
    assert.equal(none!.solvers[0]!.wait, undefined, 'no delay, no wait');
  });

  it('--disable-cn: the CSR has no common name, only the subject alternative names', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const identifiers = [
      { type: 'dns' as const, value: 'a.example' },
      { type: 'dns' as const, value: 'b.example' },
    ];
    const without = await parseCsr(await buildCsr({ key: privateKey, identifiers, commonName: false }));
    assert.equal(without.commonName, undefined);
    assert.deepEqual(
      without.identifiers.map((i) => i.value),
      ['a.example', 'b.example'],
    );
    const withCn = await parseCsr(await buildCsr({ key: privateKey, identifiers }));
    assert.equal(withCn.commonName, 'a.example');
  });

  it('--pfx.format picks the encryption of the .pfx as lego names it (RC2, DES, SHA256)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'acmekit-pfx-'));
    const keyPem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    writeFileSync(join(dir, 'k.pem'), keyPem);
    execFileSync('openssl', [
      'req',
      '-x509',
      '-key',
      join(dir, 'k.pem'),
      '-out',
      join(dir, 'c.pem'),
      '-subj',
      '/CN=x',
      '-days',
      '1',
    ]);
    const certPem = readFileSync(join(dir, 'c.pem'), 'utf8');
    /** What `openssl pkcs12 -info` says about the .pfx made with this format. */
    const info = async (format: PfxFormat) => {
      writeFileSync(
        join(dir, 'o.pfx'),
        await buildPfx({ keyPem, certPem, issuerPem: '', password: 'pw', format }),
      );
      const r = spawnSync('openssl', [
        'pkcs12',
        '-in',
        join(dir, 'o.pfx'),
        '-info',
        '-noout',
        '-legacy',
        '-passin',
        'pass:pw',
      ]);
      return `${r.stdout}${r.stderr}`;
    };
    assert.match(await info('RC2'), /MAC: sha1[\s\S]*pbeWithSHA1And40BitRC2-CBC/);
    assert.match(await info('DES'), /MAC: sha1[\s\S]*pbeWithSHA1And3-KeyTripleDES-CBC/);
    assert.match(await info('SHA256'), /MAC: sha256[\s\S]*PBES2, PBKDF2, AES-256-CBC/);
  });

  it('--filename names the files verbatim, as lego does; a path is refused', () => {
    const k = certificateFiles('example.com', 'site');
    assert.deepEqual(
      [k.crt, k.key, k.issuer, k.json, k.pem, k.pfx, k.pendingKey],
      [
        'certificates/site.crt',
        'certificates/site.key',
        'certificates/site.issuer.crt',
        'certificates/site.json',
        'certificates/site.pem',
        'certificates/site.pfx',
        'certificates/site.key.pending',
      ],
    );
    assert.equal(certificateFiles('*.example.com', '*.example.com').crt, 'certificates/*.example.com.crt');
    assert.equal(certificateFiles('*.example.com').crt, 'certificates/_.example.com.crt');
    for (const bad of ['', '..', 'a/b', 'a\\b'])
      assert.throws(() => certificateFiles('example.com', bad), InvalidInputError, JSON.stringify(bad));
  });

  it('a certificate stored under another file name is found by its domain (renew/revoke without --filename)', async () => {
    const store = new MemoryStore();
    const record = (domain: string): CertificateRecord => ({
      domain,
      certUrl: 'u',
      certStableUrl: 'u',
      acmekit: undefined,
    });
    await writeRecord(store, certificateFiles('example.com', 'site'), record('example.com'));
    assert.deepEqual(await locateCertificate(store, 'example.com'), {
      files: certificateFiles('example.com', 'site'),
      record: record('example.com'),
    });
    assert.equal((await locateCertificate(store, 'other.example')).files.fileName, undefined);
    await writeRecord(store, certificateFiles('example.com', 'site-rsa'), record('example.com'));
    await assert.rejects(locateCertificate(store, 'example.com'), /several file names \(site, site-rsa\)/);
    assert.equal((await locateCertificate(store, 'example.com', 'site-rsa')).files.fileName, 'site-rsa');
    await writeRecord(store, certificateFiles('example.com'), record('example.com'));
    assert.equal(
      (await locateCertificate(store, 'example.com')).files.fileName,
      undefined,
      'its own name first',
    );
  });

  it("lego's files for a domain typed in mixed case are found: under the typed name, or by the record in any case", async () => {
    const store = new MemoryStore();
    const record = (domain: string): CertificateRecord => ({
      domain,
      certUrl: 'u',
      certStableUrl: 'u',
      acmekit: undefined,
    });
    // lego run -d Mixed.Example.com writes certificates/Mixed.Example.com.* with that domain in the record.
    await writeRecord(store, certificateFiles('Mixed.Example.com'), record('Mixed.Example.com'));
    assert.equal(certificateFiles('Mixed.Example.com').crt, 'certificates/Mixed.Example.com.crt');
    const typed = await locateCertificate(store, 'mixed.example.com', undefined, 'Mixed.Example.com');
    assert.equal(typed.files.crt, 'certificates/Mixed.Example.com.crt');
    assert.equal(typed.record?.domain, 'Mixed.Example.com');
    const lower = await locateCertificate(store, 'mixed.example.com', undefined, 'mixed.example.com');
    assert.equal(
      lower.files.crt,
      'certificates/Mixed.Example.com.crt',
      'typed in lower case: found by its record',
    );
    // A new certificate goes under the lower-case name, where lego's renew puts one whose names are lower case.
    const fresh = await locateCertificate(store, 'new.example.com', undefined, 'New.Example.com');
    assert.deepEqual(fresh, { files: certificateFiles('new.example.com'), record: undefined });
    // Both there (lego renew wrote the lower-case one later): the domain's own name wins.
    await writeRecord(store, certificateFiles('mixed.example.com'), record('mixed.example.com'));
    const both = await locateCertificate(store, 'mixed.example.com', undefined, 'Mixed.Example.com');
    assert.equal(both.files.crt, 'certificates/mixed.example.com.crt');
  });

  it('looking for a certificate by domain skips unrelated records, even unreadable ones, among many', async () => {
    const store = new MemoryStore();
    for (let i = 0; i < 40; i++)
      await writeRecord(store, certificateFiles(`n${i}.example`), {
        domain: `n${i}.example`,
        certUrl: 'u',
        certStableUrl: 'u',
        acmekit: undefined,
      });
    await store.put('certificates/broken.json', '{ not json');
    // Has "example.com" in its text, but not as its main domain.
    await store.put(
      'certificates/mention.json',
      JSON.stringify({ domain: 'www.example.com', certUrl: 'u', certStableUrl: 'u', note: 'example.com' }),
    );
    assert.deepEqual(await locateCertificate(store, 'example.com'), {
      files: certificateFiles('example.com'),
      record: undefined,
    });
    await store.put(
      'certificates/site.json',
      JSON.stringify({ domain: 'example.com', certUrl: 'u', certStableUrl: 'u' }),
    );
    assert.equal((await locateCertificate(store, 'example.com')).files.fileName, 'site');
    await store.put('certificates/site2.json', '{ "domain": "example.com", broken');
    await assert.rejects(locateCertificate(store, 'example.com'), /site2\.json/);
  });

  it('the record remembers --disable-cn, the order dates and the challenge delay, and reads them back', () => {
    const record: CertificateRecord = {
      domain: 'example.com',
      certUrl: 'u',
      certStableUrl: 'u',
      acmekit: {
        version: 1,
        identifiers: ['example.com'],
        server: 'https://ca.test/dir',
        keyType: 'ec256',
        challenge: { type: 'http-01', httpAddress: ':80', delayMs: 5000 },
        noCommonName: true,
        orderNotBefore: '2030-01-01T00:00:00Z',
        orderNotAfter: '2030-02-01T00:00:00+01:00',
      },
    };
    const text = encodeCertificateRecord(record);
    assert.deepEqual(decodeCertificateRecord(text, 'x.json'), record);
    const json = JSON.parse(text);
    assert.equal(json.acmekit.orderNotAfter, '2030-02-01T00:00:00+01:00');
    assert.equal(json.acmekit.noCommonName, true);
    const broken = { ...json, acmekit: { ...json.acmekit, orderNotAfter: 'next week' } };
    assert.throws(() => decodeCertificateRecord(JSON.stringify(broken), 'x.json'), /orderNotAfter/);
  });
});
