import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import {
  assertNoNonceTwice,
  assertNoTempFiles,
  changedFiles,
  createTestIssuer,
  DAY_MS,
  hasFaketime,
  readState,
  removeDir,
  runAcmekit,
  snapshot,
  type TestIssuer,
  tempDir,
} from '../reliability/support.ts';
import { installedCli } from '../support/cli.ts';
import {
  countRequests,
  decodeJwsPayload,
  dropHeader,
  editBody,
  effective,
  type FaultProxy,
  problemReply,
  reply,
  startFaultProxy,
} from '../support/fault-proxy.ts';
import { freePort } from '../support/free-port.ts';
import { type PebbleServer, startPebble } from '../support/pebble.ts';

// RELIABILITY A10, A11, B1, B7, B8, B11, C11 and G4 through the installed CLI, with the fault proxy in
// front of Pebble. Each test asserts the exit code, what the user reads, the files on disk and the proxy's request log.

let pebble: PebbleServer;
let bin: string;
let issuer: TestIssuer;
before(async () => {
  [pebble, bin, issuer] = await Promise.all([
    startPebble(),
    installedCli(),
    createTestIssuer({
      notBefore: new Date(Date.now() - DAY_MS),
      notAfter: new Date(Date.now() + 400 * DAY_MS),
    }),
  ]);
});
after(async () => {
  await pebble?.stop();
  if (issuer) await removeDir(issuer.dir);
});

const PEM_CHAIN = { 'content-type': 'application/pem-certificate-chain' };
const CERT_FILES = (name: string) => [
  `certificates/${name}.crt`,
  `certificates/${name}.issuer.crt`,
  `certificates/${name}.key`,
];

interface Setup {
  proxy: FaultProxy;
  lego: string;
  /** Options for every run: server (the proxy), trust, account, path, name, http-01 listener. */
  args: string[];
}

/** A proxy in front of Pebble and a fresh --path; with `obtain`, a first certificate obtained through it. */
async function setup(t: TestContext, name: string, obtain: boolean): Promise<Setup> {
  const proxy = await startFaultProxy({ target: pebble });
  const dir = await tempDir(name.split('.')[0]!);
  t.after(async () => {
    await proxy.stop();
    await removeDir(dir);
  });
  const lego = join(dir, '.lego');
  const args = [
    ...['--server', proxy.directoryUrl, '--ca-bundle', pebble.caBundlePath, '-a', '-m', 'r@example.com'],
    ...['--path', lego, '-d', name, '--http', '--http.port', `127.0.0.1:${pebble.httpPort}`],
  ];
  if (obtain) {
    const first = await runAcmekit(bin, [...args, 'run']);
    assert.equal(first.code, 0, first.stderr);
    proxy.clearLog();
  }
  return { proxy, lego, args };
}

const renewNow = ['renew', '--days', '1900', '--no-random-sleep'];

test('B7, A14: userActionRequired on newOrder: the CLI prints the instance URL and the terms link, exits 3, never agrees by itself and never retries', async (t) => {
  const name = 'b7.example.com';
  const { proxy, lego, args } = await setup(t, name, false);
  const instance = 'https://ca.example/agree?account=42&why=tos-v2';
  const tos = 'https://ca.example/terms-v2.pdf';
  proxy.rule({
    resource: 'newOrder',
    action: problemReply(403, 'userActionRequired', 'Terms of service have changed', {
      headers: { link: `<${tos}>;rel="terms-of-service"` },
      extra: { instance },
    }),
  });
  const r = await runAcmekit(bin, [...args, 'run']);
  assert.equal(r.code, 3, r.all);
  assert.match(r.stderr, /b7\.example\.com: failed: userActionRequired: Terms of service have changed/);
  assert.ok(r.stderr.includes(`see ${instance}`), `the instance URL is printed whole: ${r.stderr}`);
  assert.ok(r.stderr.includes(`terms of service: ${tos}`), r.stderr);
  assert.match(r.stderr, /next: open the page named above .*never agrees on your behalf/);

  const refused = proxy.requests('newOrder');
  assert.equal(refused.length, 1, 'the refused newOrder is not retried');
  assert.deepEqual(
    proxy.log.filter((e) => e.seq > refused[0]!.seq).map((e) => `${e.method} ${e.path}`),
    [],
    'nothing is sent after the refusal: no agreement on the user’s behalf, no retry',
  );
  assert.equal(
    proxy.requests('newAccount').filter((e) => e.status === 201).length,
    1,
    'the account was registered once',
  );
  assertNoNonceTwice(proxy.log);

  const files = await snapshot(lego);
  assertNoTempFiles(files);
  assert.deepEqual(
    Object.keys(files)
      .filter((f) => f.startsWith('certificates/'))
      .sort(),
    [`certificates/${name}.key.pending`],
    'no certificate is written; only the key kept for the next attempt',
  );
  assert.equal(files[`certificates/${name}.key.pending`]!.mode, 0o600);
});

test('B8: a paused identifier (429 with an unpause URL) is reported verbatim, not retried, and the next cron run backs off without asking the CA', async (t) => {
  const name = 'b8.example.com';
  const { proxy, lego, args } = await setup(t, name, true);
  const before = await snapshot(lego);
  const unpause =
    'https://portal.ca.example/sfe/v1/unpause?jwt=eyJhbGciOiJIUzI1NiJ9.eyJhY2N0IjoxfQ.c2lnbmF0dXJl';
  const detail = `Your account is temporarily prevented from requesting certificates for ${name} and possibly others. Please visit: ${unpause}`;
  proxy.rule({ resource: 'newOrder', action: problemReply(429, 'rateLimited', detail) });

  const first = await runAcmekit(bin, [...args, ...renewNow]);
  assert.equal(first.code, 3, first.all);
  assert.ok(first.stderr.includes(detail), `the CA's detail is printed verbatim: ${first.stderr}`);
  assert.match(first.stderr, /next: the CA is rate limiting/);
  assert.equal(proxy.requests('newOrder').length, 1, 'a 429 without Retry-After is never retried');
  assertNoNonceTwice(proxy.log);
  const afterFirst = await snapshot(lego);
  assertNoTempFiles(afterFirst);
  for (const f of CERT_FILES(name)) assert.deepEqual(afterFirst[f], before[f], `${f} is unchanged`);
  const record = await readState(lego, name);
  assert.equal(record.lastRenewalAttempt?.failures, 1, 'the failure is persisted');
  assert.ok(record.lastRenewalAttempt?.error?.includes(unpause));

  proxy.clearLog();
  const second = await runAcmekit(bin, [...args, ...renewNow]);
  assert.equal(second.code, 0, second.all);
  assert.match(
    second.stdout,
    /b8\.example\.com: not due until .* \(1 failed attempt, the last at .*: backing off 60 seconds/,
  );
  assert.deepEqual(
    proxy.log.filter((e) => e.method === 'POST'),
    [],
    'a backed-off run sends nothing signed to the CA',
  );
  assert.deepEqual(changedFiles(afterFirst, await snapshot(lego)), []);

  if (!hasFaketime()) {
    t.diagnostic(
      'faketime is not installed (scripts/setup.sh installs it): the run after the backoff is not checked',
    );
    return;
  }
  const later = await runAcmekit(bin, [...args, ...renewNow], { faketime: '+90s' });
  assert.equal(later.code, 3, later.all);
  assert.equal(proxy.requests('newOrder').length, 1, 'after the backoff the CA is asked again, once');
  const again = await readState(lego, name);
  assert.equal(again.lastRenewalAttempt?.failures, 2);
});

test('B11: a certificate body with an extra key, another key, other names, wrong dates, nothing, DER, HTML or 10 MB is refused with its own error; the stored files stay byte-identical', async (t) => {
  const name = 'b11.example.com';
  const { proxy, lego, args } = await setup(t, name, true);
  const original = await snapshot(lego);
  const originalSerial = (await readState(lego, name)).serial;
  const realChain = await readFile(join(lego, 'certificates', `${name}.crt`), 'utf8');
  const leafDer = new X509Certificate(realChain).raw;
  const throwaway = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const throwawayBody = throwaway.split('\n')[1]!;
  const pendingKey = join(lego, 'certificates', `${name}.key.pending`);
  const leafFor = async (names: string[], notBefore: Date, notAfter: Date, keyPath = pendingKey) =>
    (await issuer.sign({ csrPem: await issuer.csrFor(keyPath, names), names, notBefore, notAfter })) +
    issuer.caPem;
  const now = Date.now();

  type Case = [
    label: string,
    action: () => Promise<Parameters<FaultProxy['rule']>[0]['action']>,
    message: RegExp,
  ];
  const cases: Case[] = [
    [
      'an extra PRIVATE KEY block',
      async () => editBody((body) => `${body.toString('utf8')}${throwaway}`),
      /certificate chain holds a PRIVATE KEY block; only CERTIFICATE is allowed/,
    ],
    [
      'a leaf for another key',
      async () => {
        const other = await issuer.newCsr([name]);
        const pem = await leafFor([name], new Date(now - DAY_MS), new Date(now + 90 * DAY_MS), other.keyPath);
        return reply(200, PEM_CHAIN, pem);
      },
      /the certificate is for a different public key than the one in the CSR/,
    ],
    [
      'names other than ordered',
      async () =>
        reply(
          200,
          PEM_CHAIN,
          await leafFor(['other.example.com'], new Date(now - DAY_MS), new Date(now + 90 * DAY_MS)),
        ),
      /names differ from the order: missing b11\.example\.com; unexpected other\.example\.com/,
    ],
    [
      'a leaf not valid yet',
      async () =>
        reply(
          200,
          PEM_CHAIN,
          await leafFor([name], new Date(now + 30 * DAY_MS), new Date(now + 120 * DAY_MS)),
        ),
      /the certificate is not valid until .* \(check this machine's clock\)/,
    ],
    [
      'an expired leaf',
      async () =>
        reply(200, PEM_CHAIN, await leafFor([name], new Date(now - 30 * DAY_MS), new Date(now - DAY_MS))),
      /the certificate expired on/,
    ],
    [
      'an empty body',
      async () => reply(200, PEM_CHAIN, ''),
      /certificate chain holds no PEM CERTIFICATE block/,
    ],
    [
      'DER instead of PEM',
      async () => editBody(() => leafDer),
      /certificate chain holds no PEM CERTIFICATE block/,
    ],
    [
      'an HTML page',
      async () =>
        reply(200, { 'content-type': 'text/html' }, '<html><body><h1>Maintenance</h1></body></html>'),
      /certificate download returned text\/html, expected application\/pem-certificate-chain/,
    ],
    [
      '10 MB of PEM',
      async () => reply(200, PEM_CHAIN, realChain.repeat(Math.ceil((10 * 1024 * 1024) / realChain.length))),
      /response body exceeds 4194304 bytes/,
    ],
  ];
  for (const [label, action, message] of cases) {
    const rule = proxy.rule({ name: label, resource: 'cert', action: await action() });
    const mark = proxy.log.length;
    const started = Date.now();
    const r = await runAcmekit(bin, [...args, 'renew', '--force', '--no-random-sleep']);
    rule.remove();
    assert.equal(r.code, 1, `${label}: ${r.all}`);
    assert.match(r.stderr, message, label);
    assert.match(r.stderr, /next: the CA sent an answer acmekit cannot use, so nothing was saved/, label);
    assert.ok(!r.all.includes(throwawayBody), `${label}: no key material is echoed`);
    // Pebble's random badNonce rejections (the download sent again at once, never given the bad body) left out.
    assert.equal(
      countRequests(proxy.log.slice(mark), (e) => e.resource === 'cert'),
      1,
      `${label}: a bad certificate is not downloaded again and again`,
    );
    assert.ok(Date.now() - started < 15_000, `${label}: fails fast`);
    const now = await snapshot(lego);
    assertNoTempFiles(now);
    for (const f of CERT_FILES(name))
      assert.deepEqual(now[f], original[f], `${label}: ${f} is byte-identical`);
    assert.deepEqual(
      changedFiles(original, now).filter((f) => !f.startsWith('.locks/')),
      [`certificates/${name}.json`, `certificates/${name}.key.pending`],
      `${label}: only the record (pending order, failure count) and the pending key are written`,
    );
  }
  assertNoNonceTwice(proxy.log);
  const record = await readState(lego, name);
  assert.equal(record.serial, originalSerial, 'the record still names the stored certificate');
  assert.equal(record.lastRenewalAttempt?.failures, cases.length);
});

test('C11: 500 on every finalize: bounded retries that wait, the old certificate stays, no deploy hook, the failure is persisted for the backoff', async (t) => {
  const name = 'c11.example.com';
  const { proxy, lego, args } = await setup(t, name, true);
  const original = await snapshot(lego);
  const hookLog = join(lego, '..', 'hooks.log');
  proxy.rule({ resource: 'finalize', action: problemReply(500, 'serverInternal', 'finalize is down') });
  const hooks = ['--deploy-hook', `echo deploy >> '${hookLog}'`, '--post-hook', `echo post >> '${hookLog}'`];
  const r = await runAcmekit(bin, [...args, ...renewNow, ...hooks]);
  assert.equal(r.code, 3, r.all);
  assert.match(r.stderr, /c11\.example\.com: failed: serverInternal: finalize is down/);
  assert.match(r.stderr, /next: the CA had a problem of its own: run again later/);

  const finalizes = proxy.requests('finalize');
  assert.equal(finalizes.length, 4, 'finalize is tried 4 times (retry.attempts), no more');
  for (let i = 1; i < finalizes.length; i++) {
    const gap = finalizes[i]!.at - finalizes[i - 1]!.doneAt!;
    assert.ok(
      gap >= 2 ** (i - 1) * 500 - 15,
      `retry ${i} waited ${gap} ms (backoff ≥ ${2 ** (i - 1) * 500} ms)`,
    );
  }
  assertNoNonceTwice(proxy.log);

  const now = await snapshot(lego);
  assertNoTempFiles(now);
  for (const f of CERT_FILES(name)) assert.deepEqual(now[f], original[f], `${f} is byte-identical`);
  assert.equal(
    await readFile(hookLog, 'utf8'),
    'post\n',
    'no deploy hook for a failed renewal; the post-hook runs, as after every attempt (it may undo a pre-hook)',
  );
  const record = await readState(lego, name);
  assert.equal(record.lastRenewalAttempt?.failures, 1);
  assert.match(record.lastRenewalAttempt?.error ?? '', /finalize is down/);

  const list = await runAcmekit(bin, ['list', '--json', '--path', lego, '--days', '1900']);
  const listed = JSON.parse(list.stdout).certificates[0];
  assert.equal(listed.lastFailure.failures, 1);
  assert.equal(
    Date.parse(listed.renewAt) - Date.parse(record.lastRenewalAttempt?.at ?? ''),
    60_000,
    'the next attempt is a minute after the failure',
  );
});

test('G4: five cron runs a minute apart while every finalize fails: only the runs the persisted backoff allows (1 min, then 10 min) reach the CA', async (t) => {
  if (!hasFaketime()) {
    t.skip('faketime is not installed (scripts/setup.sh installs it): cannot run the CLI a minute later');
    return;
  }
  const name = 'g4.example.com';
  const { proxy, lego, args } = await setup(t, name, true);
  const original = await snapshot(lego);
  proxy.rule({ resource: 'finalize', action: problemReply(500, 'serverInternal', 'finalize is down') });
  const contacted: boolean[] = [];
  const outputs: string[] = [];
  for (let minute = 0; minute < 5; minute++) {
    const mark = proxy.log.length;
    const r = await runAcmekit(bin, [...args, ...renewNow], { faketime: `+${minute * 60}s` });
    const posts = proxy.log.slice(mark).filter((e) => e.method === 'POST');
    contacted.push(posts.length > 0);
    outputs.push(r.stdout + r.stderr);
    assert.equal(r.code, posts.length > 0 ? 3 : 0, `minute ${minute}: ${r.all}`);
    if (posts.length > 0) assert.ok(posts.filter((e) => e.resource === 'finalize').length <= 4);
  }
  assert.deepEqual(contacted, [true, true, false, false, false], outputs.join('\n---\n'));
  for (const out of outputs.slice(2))
    assert.match(out, /2 failed attempts, the last at .*: backing off 10 minutes/);
  const record = await readState(lego, name);
  assert.equal(record.lastRenewalAttempt?.failures, 2);
  const now = await snapshot(lego);
  for (const f of CERT_FILES(name)) assert.deepEqual(now[f], original[f], `${f} is byte-identical`);
  assertNoNonceTwice(proxy.log);
});

test('A10: a finalize answer without Location: the CLI polls the order it knows until the certificate is ready', async (t) => {
  const name = 'a10.example.com';
  const { proxy, lego, args } = await setup(t, name, false);
  const stripped = proxy.rule({ resource: 'finalize', action: dropHeader('location') });
  const r = await runAcmekit(bin, [...args, 'run']);
  assert.equal(r.code, 0, r.all);
  assert.ok(stripped.applied >= 1, 'the Location header was stripped');
  const finalize = proxy.requests('finalize').find((e) => e.status === 200);
  assert.ok(finalize);
  const order = proxy.log.find((e) => e.resource === 'order' && e.seq > finalize.seq && e.status === 200);
  assert.ok(order, 'the order is polled after finalize');
  assert.ok(
    proxy.log.some((e) => e.resource === 'cert' && e.seq > order.seq),
    'then the certificate is fetched',
  );
  assertNoNonceTwice(proxy.log);
  assertNoTempFiles(await snapshot(lego));
});

test('A11: a failed http-01 validation: the CLI names the identifier and the CA detail, exits 3; each challenge is answered once, nothing is retried', async (t) => {
  const { proxy, lego } = await setup(t, 'a11.example.com', false);
  const payloads: { seq: number; resource: string; payload: unknown }[] = [];
  proxy.rule({
    name: 'spy',
    resource: ['authz', 'chall'],
    method: 'POST',
    when: (req) => {
      payloads.push({ seq: req.seq, resource: req.resource, payload: decodeJwsPayload(req.body) });
      return false;
    },
    action: {},
  });
  // The listener answers on a port the CA does not look at, so the CA finds nothing there.
  const wrongPort = await freePort();
  const r = await runAcmekit(bin, [
    ...['--server', proxy.directoryUrl, '--ca-bundle', pebble.caBundlePath, '-a', '-m', 'r@example.com'],
    ...['--path', lego, '-d', 'a11.example.com', '-d', 'www.a11.example.com'],
    ...['--http', '--http.port', `127.0.0.1:${wrongPort}`, 'run'],
  ]);
  assert.equal(r.code, 3, r.all);
  assert.match(
    r.stderr,
    /a11\.example\.com: failed: validation of (www\.)?a11\.example\.com by http-01 failed: \w+: .+/,
  );
  assert.match(r.stderr, /next: make sure the CA can reach the proof for (www\.)?a11\.example\.com/);
  // Counted as the client meant them: Pebble's random badNonce rejections, each sent again at once, left out.
  assert.equal(effective(proxy.requests('newOrder')).length, 1, 'one order, no retry storm');
  const answers = new Set(
    effective(proxy.log)
      .filter((e) => e.resource === 'chall')
      .map((e) => e.seq),
  );
  assert.equal(
    payloads.filter((p) => answers.has(p.seq) && JSON.stringify(p.payload) === '{}').length,
    2,
    'each of the two challenges is answered once',
  );
  assertNoNonceTwice(proxy.log);
  const files = await snapshot(lego);
  assertNoTempFiles(files);
  assert.ok(!Object.keys(files).some((f) => f.endsWith('.crt')), 'no certificate is written');
});

test('B1: through the CLI, a 429 whose Retry-After exceeds the wait acmekit allows exits 3 at once with the retry time and the CA detail', async (t) => {
  const name = 'b1.example.com';
  const { proxy, lego, args } = await setup(t, name, false);
  proxy.rule({
    resource: 'newOrder',
    action: problemReply(429, 'rateLimited', 'too many certificates for b1.example.com this week', {
      headers: { 'retry-after': '3600' },
    }),
  });
  const started = Date.now();
  const r = await runAcmekit(bin, [...args, 'run']);
  assert.equal(r.code, 3, r.all);
  assert.ok(Date.now() - started < 15_000, 'it does not wait an hour');
  assert.match(r.stderr, /rateLimited: too many certificates for b1\.example\.com this week/);
  const next = /next: the CA accepts the next attempt after (\S+); run again then/.exec(r.stderr);
  assert.ok(next, r.stderr);
  const retryAt = Date.parse(next[1]!);
  assert.ok(
    Math.abs(retryAt - (proxy.requests('newOrder')[0]!.doneAt! + 3_600_000)) < 5_000,
    'the time the CA gave',
  );
  assert.equal(proxy.requests('newOrder').length, 1);
  assertNoNonceTwice(proxy.log);
  assertNoTempFiles(await snapshot(lego));
});
