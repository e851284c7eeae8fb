import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import {
  type Account,
  AcmeClient,
  AuthorizationFailedError,
  type Challenge,
  type ChallengeContext,
  Http01ListenerSolver,
  InvalidInputError,
  obtainCertificate,
  type Solver,
  SolverError,
  TimeoutError,
  TlsAlpn01ListenerSolver,
} from '../../../src/index.ts';
import { deactivateValidAuthorizations } from '../../support/authorizations.ts';
import { challtestsrvDnsSolver } from '../../support/dns01-challtestsrv-solver.ts';
import { opensslText, opensslVerify } from '../../support/openssl.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';

let pebble: PebbleServer;
let client: AcmeClient;
let account: Account;
let http01: Http01ListenerSolver;
before(async () => {
  pebble = await startPebble({ authzReuse: 0 });
  client = new AcmeClient(pebble.directoryUrl, { caBundle: pebble.caBundle });
  account = await client.createAccount({ acceptTos: true });
  http01 = new Http01ListenerSolver({ port: pebble.httpPort, host: '127.0.0.1' });
});
after(async () => {
  client?.close();
  await pebble?.stop();
});

async function verifyWithPebble(chain: { certificate: string; issuer: string }) {
  const out = await opensslVerify({
    leaf: chain.certificate,
    intermediates: chain.issuer,
    roots: await pebble.roots(),
  });
  assert.match(out, /OK/);
}

test('A1: one order for several names, each validated by http-01; openssl verifies the chain', async () => {
  const result = await obtainCertificate(account, {
    names: ['a.example.com', 'B.Example.com', 'a.example.com'],
    solvers: [http01],
  });
  assert.deepEqual(
    result.identifiers.map((i) => i.value),
    ['a.example.com', 'b.example.com'],
  );
  const text = await opensslText(result.certificate);
  assert.match(text, /DNS:a\.example\.com/);
  assert.match(text, /DNS:b\.example\.com/);
  await verifyWithPebble(result);
  assert.equal(http01.listening, false, 'the listener closes after the last cleanup');
});

test('an IDN is ordered as punycode', async () => {
  const result = await obtainCertificate(account, { names: ['bücher.example'], solvers: [http01] });
  assert.match(await opensslText(result.certificate), /DNS:xn--bcher-kva\.example/);
});

test('A17: a wildcard with the base name: dns-01 through challtestsrv for both, TXT records cleaned up', async () => {
  const dns = challtestsrvDnsSolver(pebble.challtestsrv!);
  const result = await obtainCertificate(account, {
    names: ['*.wild.example', 'wild.example'],
    solvers: [dns],
  });
  const text = await opensslText(result.certificate);
  assert.match(text, /DNS:\*\.wild\.example/);
  assert.deepEqual(dns.presented, ['_acme-challenge.wild.example', '_acme-challenge.wild.example']);
  await verifyWithPebble(result);
});

test('A17: a wildcard with only http-01 is refused before any order', async () => {
  await assert.rejects(
    obtainCertificate(account, { names: ['*.example.com'], solvers: [http01] }),
    (err: unknown) => {
      assert.ok(err instanceof InvalidInputError);
      assert.match(err.message, /dns-01/);
      return true;
    },
  );
});

test('A17: an IP address identifier (RFC 8738) validated by http-01 gets an IP SAN', async () => {
  const result = await obtainCertificate(account, { names: ['127.0.0.1'], solvers: [http01] });
  assert.deepEqual(result.identifiers, [{ type: 'ip', value: '127.0.0.1' }]);
  assert.match(await opensslText(result.certificate), /IP Address:127\.0\.0\.1/);
});

test('D7: tls-alpn-01 answered by our own TLS listener on the validation port', async () => {
  const tls = new TlsAlpn01ListenerSolver({ port: pebble.tlsPort, host: '127.0.0.1' });
  const result = await obtainCertificate(account, { names: ['alpn.example.com'], solvers: [tls] });
  assert.match(await opensslText(result.certificate), /DNS:alpn\.example\.com/);
  assert.equal(tls.listening, false);
});

test('tls-alpn-01 for an IP address uses the reverse-DNS SNI (RFC 8738 §6)', async () => {
  // 127.0.0.1 was validated by http-01 above, and Pebble reuses a valid authorization about 1 order in
  // 100 even at PEBBLE_AUTHZREUSE=0: given up first, so this order must validate it by tls-alpn-01.
  await deactivateValidAuthorizations(account);
  const tls = new TlsAlpn01ListenerSolver({ port: pebble.tlsPort, host: '127.0.0.1' });
  const result = await obtainCertificate(account, { names: ['127.0.0.1'], solvers: [tls] });
  assert.match(await opensslText(result.certificate), /IP Address:127\.0\.0\.1/);
  const [authz] = await (await account.order(result.orderUrl)).authorizations();
  assert.equal(authz?.challenge('tls-alpn-01')?.status, 'valid', 'validated by tls-alpn-01, not reused');
});

test('A11: a failing http-01 validation surfaces the CA problem detail and the identifier', async () => {
  // The solver publishes a wrong answer, so Pebble's VA fetches it and rejects it.
  const liar: Solver = {
    type: 'http-01',
    present: async (ctx) => {
      const wrong = { token: ctx.challenge.token, keyAuthorization: 'wrong' } as Challenge;
      await http01.present({ ...ctx, challenge: wrong });
    },
    cleanup: (ctx) => http01.cleanup(ctx),
  };
  await assert.rejects(
    obtainCertificate(account, { names: ['fail.example.com'], solvers: [liar] }),
    (err: unknown) => {
      assert.ok(err instanceof AuthorizationFailedError, String(err));
      assert.equal(err.identifier, 'fail.example.com');
      assert.equal(err.challengeType, 'http-01');
      assert.ok(err.problem, 'the CA explanation is kept');
      assert.match(err.message, /fail\.example\.com/);
      return true;
    },
  );
  assert.equal(http01.listening, false, 'cleanup ran after the failure');
});

test('D1: http-01 port in use gives a clear error before any challenge is answered; the authorization is deactivated', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(pebble.httpPort, '127.0.0.1', resolve));
  try {
    const real = new Http01ListenerSolver({ port: pebble.httpPort, host: '127.0.0.1' });
    const seen: ChallengeContext[] = [];
    const spy: Solver = {
      type: 'http-01',
      present: (ctx, signal) => {
        seen.push(ctx);
        return real.present(ctx, signal);
      },
      cleanup: (ctx, signal) => real.cleanup(ctx, signal),
    };
    await assert.rejects(
      obtainCertificate(account, { names: ['busy.example.com'], solvers: [spy] }),
      (err: unknown) => {
        assert.ok(err instanceof SolverError, String(err));
        assert.match(err.message, /in use/);
        return true;
      },
    );
    assert.equal(seen.length, 1);
    await seen[0]!.authorization.refresh();
    assert.equal(seen[0]!.authorization.status, 'deactivated');
    assert.equal(seen[0]!.challenge.status, 'pending', 'the challenge was never answered');
  } finally {
    blocker.close();
  }
});

test('A19: orders with notBefore/notAfter are accepted and the order reflects them', async () => {
  const notAfter = new Date(Date.now() + 3 * 86_400_000);
  const order = await account.newOrder({ identifiers: ['dates.example.com'], notAfter });
  assert.equal(order.status, 'pending');
  assert.ok(order.state.notAfter, `order has notAfter: ${JSON.stringify(order.state)}`);
  assert.ok(Math.abs(new Date(order.state.notAfter).getTime() - notAfter.getTime()) < 1000);
  const authzs = await order.authorizations();
  assert.equal(authzs.length, 1);
  const challenge = authzs[0]!.challenge('http-01')!;
  assert.match(challenge.keyAuthorization, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  assert.match(challenge.dnsTxtValue, /^[A-Za-z0-9_-]{43}$/);
  await authzs[0]!.deactivate();
  assert.equal(authzs[0]!.status, 'deactivated');
});

test('a whole-flow deadline aborts a stuck solver with TimeoutError, and cleanup still runs', async () => {
  let cleaned = 0;
  const stuck: Solver = {
    type: 'http-01',
    present: (_ctx, signal) =>
      new Promise((_resolve, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
      ),
    cleanup: async () => {
      cleaned++;
    },
  };
  const started = Date.now();
  await assert.rejects(
    obtainCertificate(account, { names: ['stuck.example.com'], solvers: [stuck], timeoutMs: 1500 }),
    (err: unknown) => err instanceof TimeoutError || (err as Error).name === 'TimeoutError',
  );
  assert.ok(Date.now() - started < 10_000);
  assert.equal(cleaned, 1);
});
