// ARI (RFC 9773) and profiles (draft-aaron-acme-profiles) against a real Pebble 2.4.0 behind
// test/support/ari-server.ts. Pebble 2.4.0 has neither feature, so the renewalInfo resource, the
// directory's meta.profiles and the checks of "replaces" and "profile" on newOrder are emulated
// by that front (DESIGN.md, "Test servers"); accounts, orders, challenges and certificates are
// Pebble's. Test names say "emulated" where the behaviour under test comes from the front.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import {
  type Account,
  AcmeClient,
  type AcmeClientOptions,
  AlreadyReplacedError,
  BadServerResponseError,
  Http01ListenerSolver,
  InvalidInputError,
  MalformedError,
  type ObtainResult,
  obtainCertificate,
  UnauthorizedError,
} from '../../src/index.ts';
import { type AriServer, defaultWindow, startAriServer } from '../support/ari-server.ts';
import { type PebbleServer, startPebble } from '../support/pebble.ts';

const run = promisify(execFile);

let pebble: PebbleServer;
let ari: AriServer;
let client: AcmeClient;
let account: Account;
let issued: ObtainResult;
/** The certID of `issued`, computed with the openssl CLI (not with acmekit's code). */
let issuedCertId: string;
const clients: AcmeClient[] = [];

const NAME = 'ari.example.com';
const solvers = () => [new Http01ListenerSolver({ port: pebble.httpPort, host: '127.0.0.1' })];

/** A client of the front; closed after the file. A fixed `now` makes Retry-After and windows exact. */
function frontClient(now?: number): AcmeClient {
  const opts: AcmeClientOptions = { caBundle: ari.caBundle };
  if (now !== undefined)
    opts.clock = { now: () => now, sleep: (ms, signal) => sleep(ms, undefined, { signal }) };
  const c = new AcmeClient(ari.directoryUrl, opts);
  clients.push(c);
  return c;
}

/**
 * RFC 9773 §4.1 certID from `openssl x509`: base64url(AKI keyIdentifier) "." base64url(serial DER
 * content octets). openssl prints the serial's magnitude, so the DER sign octet 00 is added back
 * when the first octet has its high bit set (X.690 §8.3.2).
 */
async function opensslCertId(pem: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-ari-'));
  try {
    const file = join(dir, 'leaf.pem');
    await writeFile(file, pem);
    const { stdout: serialOut } = await run('openssl', ['x509', '-in', file, '-noout', '-serial']);
    const { stdout: akiOut } = await run('openssl', [
      'x509',
      '-in',
      file,
      '-noout',
      '-ext',
      'authorityKeyIdentifier',
    ]);
    let serial = /serial=([0-9A-F]+)/i.exec(serialOut)?.[1];
    const aki = /Authority Key Identifier:\s*(?:keyid:)?([0-9A-F]{2}(?::[0-9A-F]{2})*)/i.exec(akiOut)?.[1];
    assert.ok(serial && aki, `openssl output not understood:\n${serialOut}\n${akiOut}`);
    if (serial.length % 2 === 1) serial = `0${serial}`;
    if (Number.parseInt(serial.slice(0, 2), 16) >= 0x80) serial = `00${serial}`;
    const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');
    return `${b64(aki.replaceAll(':', ''))}.${b64(serial)}`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const renewalInfoGets = () => ari.requests.filter((r) => r.method === 'GET' && r.path !== '/dir');

before(async () => {
  pebble = await startPebble();
  ari = await startAriServer({ pebble });
  client = frontClient();
  account = await client.createAccount({ acceptTos: true });
  issued = await obtainCertificate(account, { names: [NAME], solvers: solvers() });
  issuedCertId = await opensslCertId(issued.certificate);
});

after(async () => {
  for (const c of clients) c.close();
  await ari?.stop();
  await pebble?.stop();
});

beforeEach(() => ari.reset());

test('B9: ARI (emulated RFC 9773 server): renewalInfo uses the certificate id from AKI and serial', async () => {
  const info = await client.renewalInfo(issued.certificate);
  assert.ok(info);
  assert.deepEqual(
    renewalInfoGets().map((r) => r.path),
    [`/renewalInfo/${issuedCertId}`],
  );
  assert.equal(info.certId, issuedCertId);
  // The front's own DER reader found the same id when Pebble's certificate went through it.
  assert.ok(ari.certificates.has(issuedCertId));
  // Its default answer (the third quarter of the validity) is passed through unchanged.
  const window = defaultWindow(issued.notBefore, issued.notAfter);
  assert.equal(info.windowStart.getTime(), window.start.getTime());
  assert.equal(info.windowEnd.getTime(), window.end.getTime());
  assert.equal(info.explanationUrl, undefined);
  // The whole chain (leaf first) names the same certificate.
  assert.equal((await client.renewalInfo(issued.chain))?.certId, issuedCertId);
});

test('ARI (emulated RFC 9773 server): a serial with the high bit set keeps its 00 octet in the certificate id (openssl-made certificate: Pebble serials stay below 2^63)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-ari-'));
  try {
    const cnf = join(dir, 'openssl.cnf');
    await writeFile(
      cnf,
      '[req]\ndistinguished_name = dn\nx509_extensions = v\n[dn]\n[v]\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\nsubjectAltName = DNS:high.example.com\n',
    );
    await run('openssl', [
      ...['req', '-x509', '-config', cnf, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
      ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-subj', '/CN=high.example.com'],
      ...['-days', '2', '-set_serial', '0x87654321'],
    ]);
    const pem = await readFile(join(dir, 'cert.pem'), 'utf8');
    const expected = await opensslCertId(pem);
    assert.match(expected, /\.AIdlQyE$/); // 00 87 65 43 21
    // The front never issued it: its default answer is a 404 problem, which reaches the caller as is.
    await assert.rejects(
      frontClient().renewalInfo(pem),
      (err: unknown) => err instanceof MalformedError && err.status === 404,
    );
    ari.reset();
    const now = Date.now();
    ari.setRenewalInfo({
      status: 200,
      body: {
        suggestedWindow: {
          start: new Date(now + 3_600_000).toISOString(),
          end: new Date(now + 7_200_000).toISOString(),
        },
      },
    });
    const info = await frontClient().renewalInfo(pem);
    assert.equal(info?.certId, expected);
    assert.deepEqual(
      renewalInfoGets().map((r) => r.path),
      [`/renewalInfo/${expected}`],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('ARI (emulated RFC 9773 server): a renewalInfo URL ending in "/" gets no double slash', async () => {
  ari.config.renewalInfoPath = '/acme/renewal-info/';
  const info = await frontClient().renewalInfo(issued.certificate);
  assert.equal(info?.certId, issuedCertId);
  assert.deepEqual(
    renewalInfoGets().map((r) => r.path),
    [`/acme/renewal-info/${issuedCertId}`],
  );
});

const iso = (ms: number) => new Date(ms).toISOString();
const windowReply = (start: string, end: string, headers: Record<string, string> = {}) => ({
  status: 200,
  headers,
  body: { suggestedWindow: { start, end } },
});

test('B9(a): ARI (emulated RFC 9773 server): a window in the past is returned as it is (renew now)', async () => {
  const now = Date.now();
  ari.setRenewalInfo(windowReply(iso(now - 2 * 86_400_000), iso(now - 86_400_000)));
  const info = await frontClient(now).renewalInfo(issued.certificate);
  assert.equal(info?.windowStart.getTime(), now - 2 * 86_400_000);
  assert.equal(info?.windowEnd.getTime(), now - 86_400_000);
});

test('ARI (emulated RFC 9773 server): a window starting in the next minute is returned as it is', async () => {
  const now = Date.now();
  ari.setRenewalInfo(windowReply(iso(now + 60_000), iso(now + 3_600_000)));
  const info = await frontClient(now).renewalInfo(issued.certificate);
  assert.equal(info?.windowStart.getTime(), now + 60_000);
  assert.equal(info?.windowEnd.getTime(), now + 3_600_000);
});

test('B9(c): ARI (emulated RFC 9773 server): end before start → BadServerResponseError', async () => {
  const now = Date.now();
  ari.setRenewalInfo(windowReply(iso(now + 7_200_000), iso(now + 3_600_000)));
  await assert.rejects(frontClient(now).renewalInfo(issued.certificate), BadServerResponseError);
});

test('ARI (emulated RFC 9773 server): end equal to start → BadServerResponseError (RFC 9773 §4.2: "equals or precedes" is invalid)', async () => {
  const now = Date.now();
  ari.setRenewalInfo(windowReply(iso(now + 3_600_000), iso(now + 3_600_000)));
  await assert.rejects(frontClient(now).renewalInfo(issued.certificate), BadServerResponseError);
});

test('ARI (emulated RFC 9773 server): an unparsable or missing suggestedWindow → BadServerResponseError', async () => {
  const now = Date.now();
  const c = frontClient(now);
  ari.setRenewalInfo(windowReply('soon', iso(now + 3_600_000)));
  await assert.rejects(c.renewalInfo(issued.certificate), BadServerResponseError);
  ari.setRenewalInfo({ status: 200, body: { explanationURL: 'https://example.test/why' } });
  await assert.rejects(c.renewalInfo(issued.certificate), BadServerResponseError);
  ari.setRenewalInfo({ status: 200, body: 'not json', headers: { 'content-type': 'application/json' } });
  await assert.rejects(c.renewalInfo(issued.certificate), BadServerResponseError);
});

test('B9(d): ARI (emulated RFC 9773 server): Retry-After clamped to [60 s, 1 day]; absent → 6 h', async () => {
  // Whole seconds, so an HTTP-date (second precision) maps back exactly.
  const now = Math.floor(Date.now() / 1000) * 1000;
  const c = frontClient(now);
  const httpDate = (ms: number) => new Date(ms).toUTCString();
  const cases: [string | undefined, number][] = [
    [undefined, 6 * 3_600_000],
    ['0', 60_000],
    ['10', 60_000],
    ['-5', 60_000],
    ['60', 60_000],
    ['3600', 3_600_000],
    ['86400', 86_400_000],
    ['172800', 86_400_000],
    [httpDate(now + 2 * 3_600_000), 2 * 3_600_000],
    [httpDate(now - 3_600_000), 60_000],
    ['soon', 6 * 3_600_000],
  ];
  for (const [header, expectedMs] of cases) {
    ari.setRenewalInfo(
      windowReply(
        iso(now + 86_400_000),
        iso(now + 2 * 86_400_000),
        header === undefined ? {} : { 'retry-after': header },
      ),
    );
    const info = await c.renewalInfo(issued.certificate);
    assert.equal(info?.retryAfter.getTime(), now + expectedMs, `Retry-After: ${header ?? '(absent)'}`);
  }
});

test('B9: ARI (emulated RFC 9773 server): explanationURL with javascript: is dropped, http(s) kept', async () => {
  const now = Date.now();
  const c = frontClient(now);
  const cases: [string, string | undefined][] = [
    ['javascript:alert(1)', undefined],
    ['JavaScript:alert(document.cookie)', undefined],
    ['data:text/html,<script>alert(1)</script>', undefined],
    ['/relative/why', undefined],
    ['https://example.test/incident/42', 'https://example.test/incident/42'],
    ['http://example.test/why', 'http://example.test/why'],
  ];
  for (const [url, expected] of cases) {
    ari.setRenewalInfo({
      status: 200,
      body: { suggestedWindow: { start: iso(now), end: iso(now + 3_600_000) }, explanationURL: url },
    });
    const info = await c.renewalInfo(issued.certificate);
    assert.equal(info?.explanationUrl, expected, url);
  }
});

test('ARI: a CA without renewalInfo → undefined (real Pebble 2.4.0, and the emulated server with ARI off)', async () => {
  const direct = new AcmeClient(pebble.directoryUrl, { caBundle: pebble.caBundle });
  clients.push(direct);
  assert.equal((await direct.directory()).renewalInfo, undefined);
  assert.equal(await direct.renewalInfo(issued.certificate), undefined);

  ari.config.renewalInfo = false;
  assert.equal(await frontClient().renewalInfo(issued.certificate), undefined);
  assert.deepEqual(
    ari.requests.map((r) => `${r.method} ${r.path}`),
    ['GET /dir'],
  );
});

test('B9: ARI (emulated RFC 9773 server): replaces is sent on newOrder; on 409 alreadyReplaced the order is sent again without it', async () => {
  // First renewal: the front accepts "replaces" and Pebble issues.
  const first = await obtainCertificate(account, {
    names: [NAME],
    solvers: solvers(),
    replaces: issuedCertId,
  });
  let orders = ari.newOrders();
  assert.equal(orders.length, 1);
  assert.equal(orders[0]!.payload.replaces, issuedCertId);
  assert.equal(orders[0]!.status, 201);
  assert.equal(ari.replaced.get(issuedCertId), first.orderUrl);
  assert.equal((await account.order(first.orderUrl)).state.replaces, issuedCertId);

  // Second renewal naming the same certificate: 409 alreadyReplaced, then the same order without it.
  ari.reset();
  const second = await obtainCertificate(account, {
    names: [NAME],
    solvers: solvers(),
    replaces: issuedCertId,
  });
  orders = ari.newOrders();
  assert.deepEqual(
    orders.map((o) => [o.status, o.answeredBy]),
    [
      [409, 'emulated'],
      [201, 'pebble'],
    ],
  );
  assert.equal(orders[0]!.payload.replaces, issuedCertId);
  assert.equal(Object.hasOwn(orders[1]!.payload, 'replaces'), false);
  assert.deepEqual(orders[1]!.payload.identifiers, orders[0]!.payload.identifiers);
  assert.notEqual(second.serial, first.serial);
  assert.equal((await account.order(second.orderUrl)).state.replaces, undefined);
});

test('ARI (emulated RFC 9773 server): alreadyReplaced is an AlreadyReplacedError when nothing can be dropped', async () => {
  // Without "replaces" the library has nothing to drop: the CA's error reaches the caller, sent once.
  ari.setNewOrder(() => ({
    status: 409,
    body: { type: 'urn:ietf:params:acme:error:alreadyReplaced', detail: 'emulated', status: 409 },
  }));
  await assert.rejects(account.newOrder({ identifiers: [NAME] }), AlreadyReplacedError);
  assert.equal(ari.newOrders().length, 1);
});

test('ARI (emulated RFC 9773 server): replaces naming another account’s certificate (403) is dropped too', async () => {
  const other = await client.createAccount({ acceptTos: true });
  ari.reset();
  const order = await other.newOrder({ identifiers: [NAME], replaces: issuedCertId });
  assert.deepEqual(
    ari.newOrders().map((o) => [o.status, o.answeredBy, Object.hasOwn(o.payload, 'replaces')]),
    [
      [403, 'emulated', true],
      [201, 'pebble', false],
    ],
  );
  assert.equal(order.state.replaces, undefined);
  // The CA's refusal on its own (no replaces to drop) is an UnauthorizedError.
  ari.reset();
  ari.setNewOrder(() => ({
    status: 403,
    body: { type: 'urn:ietf:params:acme:error:unauthorized', detail: 'emulated', status: 403 },
  }));
  await assert.rejects(other.newOrder({ identifiers: [NAME] }), UnauthorizedError);
  assert.equal(ari.newOrders().length, 1);
});

test('profiles (emulated draft-aaron-acme-profiles server): meta.profiles is parsed; an unknown profile is refused before any request; a known profile is sent in newOrder', async () => {
  const dir = await frontClient().directory();
  assert.deepEqual(dir.meta?.profiles, ari.config.profiles);

  // `client` already holds the directory: an unknown profile must not reach the network at all.
  ari.reset();
  await assert.rejects(
    account.newOrder({ identifiers: ['profile.example.com'], profile: 'tlsserver' }),
    (err: unknown) =>
      err instanceof InvalidInputError &&
      /tlsserver/.test(err.message) &&
      /classic, shortlived/.test(err.message),
  );
  await assert.rejects(
    obtainCertificate(account, { names: ['profile.example.com'], profile: 'tlsserver', solvers: solvers() }),
    InvalidInputError,
  );
  assert.deepEqual(ari.requests, []);

  // A known one is sent; Pebble issues (with its only profile: the name changes nothing in the certificate).
  const result = await obtainCertificate(account, {
    names: ['profile.example.com'],
    profile: 'shortlived',
    solvers: solvers(),
  });
  const orders = ari.newOrders();
  assert.equal(orders.length, 1);
  assert.equal(orders[0]!.payload.profile, 'shortlived');
  assert.equal(orders[0]!.status, 201);
  assert.equal((await account.order(result.orderUrl)).state.profile, 'shortlived');
});

test('profiles (emulated draft-aaron-acme-profiles server): non-string meta.profiles entries are ignored', async () => {
  ari.config.profiles = { classic: 'https://example.test/classic', broken: 42 } as unknown as Record<
    string,
    string
  >;
  const dir = await frontClient().directory();
  assert.deepEqual(dir.meta?.profiles, { classic: 'https://example.test/classic' });
});

test('profiles: a CA without meta.profiles refuses any profile before newOrder (real Pebble 2.4.0, and the emulated server with profiles off)', async () => {
  const direct = new AcmeClient(pebble.directoryUrl, { caBundle: pebble.caBundle });
  clients.push(direct);
  const directAccount = await direct.createAccount({ acceptTos: true });
  await assert.rejects(
    directAccount.newOrder({ identifiers: ['profile.example.com'], profile: 'classic' }),
    (err: unknown) => err instanceof InvalidInputError && /offered: none/.test(err.message),
  );

  ari.config.profiles = undefined;
  const c = frontClient();
  const acct = c.account(account.toCredentials());
  await assert.rejects(
    acct.newOrder({ identifiers: ['profile.example.com'], profile: 'classic' }),
    InvalidInputError,
  );
  assert.deepEqual(
    ari.requests.map((r) => `${r.method} ${r.path}`),
    ['GET /dir'],
  );
});
