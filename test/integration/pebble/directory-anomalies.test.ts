import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  AcmeClient,
  BadServerResponseError,
  Http01ListenerSolver,
  obtainCertificate,
} from '../../../src/index.ts';
import { mutateJson, reply, setHeader } from '../../support/fault-proxy.ts';
import { opensslText } from '../../support/openssl.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';
import { proxiedClient, rejection, tripwire, uniqueName } from './proxied.ts';

// RELIABILITY B10: directory anomalies, injected by the fault proxy in front of a real Pebble.
// The policy these tests pin down (docs/transport.md, "Directory and resource URLs"):
// - unknown fields of the directory and of its meta are ignored, never fetched;
// - resources may live on another host than the directory (RFC 8555 §7.1.1 does not tie them to it);
// - every URL the CA names must be https when the CA was reached over https, whatever the host, so a
//   signed request never leaves TLS (on loopback too); anything else is BadServerResponseError naming
//   the field, raised before any request goes there;
// - a 3xx on the directory URL is refused with the redirect target in the error, never followed.

let pebble: PebbleServer;
before(async () => {
  pebble = await startPebble();
});
after(() => pebble?.stop());

const FAST_RETRY = { backoffBaseMs: 50, backoffMaxMs: 200 };
const RESOURCES = ['newNonce', 'newAccount', 'newOrder', 'revokeCert', 'keyChange', 'renewalInfo'] as const;
const KNOWN_TOP_LEVEL = new Set([...RESOURCES, 'newAuthz', 'meta']);

const solver = () => new Http01ListenerSolver({ port: pebble.httpPort, host: '127.0.0.1' });

test('B10: unknown fields in the directory and its meta are ignored: a real issuance works and nothing is fetched from them', async (t) => {
  const { proxy, client } = await proxiedClient(t, pebble, { retry: FAST_RETRY });
  const trap = await tripwire(t);
  const trapUrl = `http://127.0.0.1:${trap.port}`;
  proxy.rule({
    resource: 'directory',
    action: mutateJson((dir: Record<string, unknown>) => ({
      ...dir,
      // Let's Encrypt adds a random key like this one to catch clients that choke on unknown fields.
      Bv0TZuY3ip0: 'https://community.letsencrypt.org/t/adding-random-entries-to-the-directory/33417',
      newThing: `${trapUrl}/new-thing`,
      vendorEndpoints: [`${trapUrl}/a`, { url: `${trapUrl}/b` }],
      nested: { deeper: { deepest: [1, null, true] } },
      count: 42,
      nothing: null,
      meta: {
        ...(dir.meta as object),
        futureFlag: true,
        'x-vendor': { url: `${trapUrl}/meta` },
        caaIdentities: ['pebble.letsencrypt.org'],
      },
    })),
  });

  const dir = await client.directory();
  for (const key of Object.keys(dir)) assert.ok(KNOWN_TOP_LEVEL.has(key), `unknown field "${key}" dropped`);
  assert.ok(dir.newOrder.startsWith(proxy.origin));
  assert.deepEqual(dir.meta?.caaIdentities, ['pebble.letsencrypt.org'], 'known meta fields still read');

  const account = await client.createAccount({ acceptTos: true });
  const name = uniqueName('b10-unknown');
  const result = await obtainCertificate(account, { names: [name], solvers: [solver()] });
  assert.match(await opensslText(result.certificate), new RegExp(`DNS:${name.replace(/\./g, '\\.')}`));

  assert.equal(trap.connections, 0, 'no URL from an unknown field was contacted');
  const unexpected = proxy.log.filter((e) => e.resource === 'other').map((e) => `${e.method} ${e.path}`);
  assert.deepEqual(unexpected, [], 'every request went to a resource the client knows');
});

test('B10: resources on another host than the directory are used as named (https): a real issuance', async (t) => {
  const { proxy, client } = await proxiedClient(t, pebble, { retry: FAST_RETRY });
  // Same proxy, another host: Pebble's certificate names both 127.0.0.1 and localhost. Pebble builds
  // every URL it hands out (account kid, orders, authorizations) from the Host it was asked on, so
  // moving every resource keeps its checks of kid and JWS url consistent.
  const foreign = proxy.origin.replace('127.0.0.1', 'localhost');
  assert.notEqual(new URL(foreign).host, new URL(proxy.directoryUrl).host);
  proxy.rule({
    resource: 'directory',
    action: mutateJson((dir: Record<string, unknown>) => {
      for (const key of RESOURCES) {
        if (typeof dir[key] === 'string') dir[key] = (dir[key] as string).replace(proxy.origin, foreign);
      }
    }),
  });
  const account = await client.createAccount({ acceptTos: true });
  const name = uniqueName('b10-foreign');
  const result = await obtainCertificate(account, { names: [name], solvers: [solver()] });
  assert.deepEqual(result.identifiers, [{ type: 'dns', value: name }]);
  assert.ok(result.orderUrl.startsWith(`${foreign}/`), result.orderUrl);
  assert.ok(result.certificateUrl.startsWith(`${foreign}/`), result.certificateUrl);

  const [first, ...rest] = proxy.log;
  assert.equal(first?.resource, 'directory');
  assert.equal(
    first?.host,
    new URL(proxy.directoryUrl).host,
    'the directory is fetched where it was configured',
  );
  assert.ok(rest.length > 5, 'the whole flow went through the proxy');
  for (const e of rest) {
    assert.equal(
      e.host,
      new URL(foreign).host,
      `${e.method} ${e.resource} went to the host the directory named`,
    );
    if (e.method === 'POST')
      assert.ok(e.jwsUrl?.startsWith(`${foreign}/`), `JWS url of #${e.seq}: ${e.jwsUrl}`);
  }
  assert.equal(proxy.requests('newOrder')[0]?.jwsUrl, `${foreign}/order-plz`);
});

test('B10: a directory naming a plain-http resource is refused before any request goes there, on loopback too', async (t) => {
  const { proxy } = await proxiedClient(t, pebble, { retry: FAST_RETRY });
  const trap = await tripwire(t);
  for (const key of RESOURCES) {
    const rule = proxy.rule({
      resource: 'directory',
      action: mutateJson((dir: Record<string, unknown>) => {
        // Loopback: acmekit accepts a plain-http *directory* there (a local test CA), so this is the
        // case a host-only check would let through.
        dir[key] = `http://127.0.0.1:${trap.port}/${key}`;
      }),
    });
    const client = new AcmeClient(proxy.directoryUrl, { caBundle: pebble.caBundle, retry: FAST_RETRY });
    t.after(() => client.close());
    const mark = proxy.log.length;
    const err = await rejection(client.createAccount({ acceptTos: true }));
    assert.ok(err instanceof BadServerResponseError, `${key}: got ${String(err)}`);
    assert.match(err.message, new RegExp(`"${key}"`), `${key}: the error names the field`);
    assert.match(err.message, /plain http/);
    assert.match(err.message, new RegExp(`http://127\\.0\\.0\\.1:${trap.port}/${key}`));
    assert.deepEqual(
      proxy.log.slice(mark).map((e) => e.resource),
      ['directory'],
      `${key}: nothing but the directory was fetched`,
    );
    rule.remove();
  }
  assert.equal(trap.connections, 0, 'no connection was ever opened to the plain-http address');
});

test('B10: an order or authorization naming plain-http (or non-http) URLs is refused before any request goes there', async (t) => {
  const { proxy, client } = await proxiedClient(t, pebble, { retry: FAST_RETRY });
  const trap = await tripwire(t);
  const plain = (path: string) => `http://127.0.0.1:${trap.port}/${path}`;
  const account = await client.createAccount({ acceptTos: true });
  const cases: { field: string; rule: Parameters<typeof proxy.rule>[0]; url: string }[] = [
    {
      field: 'finalize',
      url: plain('finalize'),
      rule: {
        resource: 'newOrder',
        times: 1,
        action: mutateJson((o) => ({ ...o, finalize: plain('finalize') })),
      },
    },
    {
      field: 'authorizations',
      url: plain('authz'),
      rule: {
        resource: 'newOrder',
        times: 1,
        action: mutateJson((o: { authorizations: string[] }) => ({ ...o, authorizations: [plain('authz')] })),
      },
    },
    {
      field: 'finalize',
      url: 'ftp://127.0.0.1/finalize',
      rule: {
        resource: 'newOrder',
        times: 1,
        action: mutateJson((o) => ({ ...o, finalize: 'ftp://127.0.0.1/finalize' })),
      },
    },
  ];
  for (const c of cases) {
    const r = proxy.rule(c.rule);
    const err = await rejection(account.newOrder({ identifiers: [uniqueName('b10-order')] }));
    assert.ok(err instanceof BadServerResponseError, `${c.url}: got ${String(err)}`);
    assert.match(err.message, new RegExp(`order names "${c.field}" at ${c.url.replace(/\./g, '\\.')}`));
    assert.equal(r.applied, 1);
  }

  // A challenge URL in an authorization: the challenge POST would carry the account's signature.
  const order = await account.newOrder({ identifiers: [uniqueName('b10-chall')] });
  proxy.rule({
    resource: 'authz',
    action: mutateJson((a: { challenges: { url: string }[] }) => {
      for (const c of a.challenges) c.url = plain('chall');
    }),
  });
  const err = await rejection(order.authorizations());
  assert.ok(err instanceof BadServerResponseError, `got ${String(err)}`);
  assert.match(err.message, /challenge names "url" at http:\/\/127\.0\.0\.1/);
  assert.equal(trap.connections, 0, 'nothing was sent to a plain-http URL');
});

test('B10: a Location naming plain http is never requested: the client refuses to leave TLS', async (t) => {
  const { proxy, client } = await proxiedClient(t, pebble, { retry: FAST_RETRY });
  const trap = await tripwire(t);
  const account = await client.createAccount({ acceptTos: true });
  proxy.rule({
    resource: 'newOrder',
    times: 1,
    action: setHeader(
      'location',
      (value) => `http://127.0.0.1:${trap.port}${new URL(String(value)).pathname}`,
    ),
  });
  const order = await account.newOrder({ identifiers: [uniqueName('b10-location')] });
  assert.ok(order.url.startsWith(`http://127.0.0.1:${trap.port}/my-order/`), order.url);
  const err = await rejection(order.refresh());
  assert.ok(err instanceof BadServerResponseError, `got ${String(err)}`);
  assert.ok(err.message.includes(order.url), err.message);
  assert.match(err.message, /outside TLS/);
  assert.equal(trap.connections, 0, 'the signed POST-as-GET never went out in clear text');
});

test('B10: a 3xx on the directory URL is refused with the target in the error, never followed', async (t) => {
  const { proxy, client } = await proxiedClient(t, pebble, { retry: FAST_RETRY });
  const trap = await tripwire(t);
  const sameCaOtherHost = proxy.directoryUrl.replace('127.0.0.1', 'localhost');
  const cases = [
    { status: 301, location: sameCaOtherHost },
    { status: 302, location: `http://127.0.0.1:${trap.port}/dir` },
    { status: 307, location: proxy.directoryUrl },
    { status: 308, location: '/elsewhere' },
  ];
  for (const { status, location } of cases) {
    const rule = proxy.rule({ resource: 'directory', times: 1, action: reply(status, { location }) });
    const mark = proxy.log.length;
    const err = await rejection(client.createAccount({ acceptTos: true }));
    assert.ok(err instanceof BadServerResponseError, `${status}: got ${String(err)}`);
    assert.equal(err.status, status);
    assert.equal(err.url, proxy.directoryUrl);
    assert.ok(err.message.includes(`redirects to ${location}`), `${status}: ${err.message}`);
    assert.match(err.message, /use the final URL as the server/);
    assert.equal(rule.applied, 1);
    // Not followed (the 301 target is this same proxy under another name, the 307 one the URL itself)
    // and not retried.
    assert.deepEqual(
      proxy.log.slice(mark).map((e) => `${e.method} ${e.host} ${e.resource} ${e.status}`),
      [`GET ${new URL(proxy.directoryUrl).host} directory ${status}`],
    );
  }
  assert.equal(trap.connections, 0, 'the plain-http redirect target was never contacted');

  // A refused directory is not remembered: once the CA answers normally, the same client works.
  const account = await client.createAccount({ acceptTos: true });
  assert.ok(account.url.startsWith(proxy.origin));
});
