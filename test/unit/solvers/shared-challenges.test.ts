import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { test } from 'node:test';
import { buildTlsAlpnCertificate } from '../../../src/crypto/tls-alpn-cert.ts';
import { HttpChallengeSolver } from '../../../src/solvers/http01-store.ts';
import { isWellFormedServerName, isWellFormedToken } from '../../../src/solvers/shared-challenges.ts';
import type { ChallengeContext } from '../../../src/solvers/solver.ts';
import { TlsAlpnChallengeSolver } from '../../../src/solvers/tls-alpn01-store.ts';
import { MemoryStore } from '../../../src/storage/memory-store.ts';
import type { Store } from '../../../src/storage/store.ts';

const TOKEN = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
const THUMB = 'nP1qzpXGymHBrUEepNY9HCsQk7K8KhOypzEeGkHh8T0';

/** A store that counts reads, and can be made slow, as the backend of another process. */
function countingStore(inner: Store, delayMs = 0): Store & { gets: number } {
  const counted = {
    gets: 0,
    get: async (key: string, signal?: AbortSignal) => {
      counted.gets++;
      if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
      return inner.get(key, signal);
    },
    put: inner.put.bind(inner),
    delete: inner.delete.bind(inner),
    list: inner.list.bind(inner),
    lock: inner.lock.bind(inner),
  };
  return counted;
}

interface Answer {
  status: number;
  body: string | undefined;
  headers: Record<string, unknown>;
}

/** Calls a handler with a fake request; resolves when it answered (it may wait for the store). */
function call(handler: (req: IncomingMessage, res: ServerResponse) => void, url: string, method = 'GET') {
  return new Promise<Answer>((resolve) => {
    const out: Answer = { status: 0, body: undefined, headers: {} };
    const res = {
      headersSent: false,
      writableEnded: false,
      destroyed: false,
      writeHead(status: number, headers: Record<string, unknown>) {
        out.status = status;
        out.headers = headers;
        res.headersSent = true;
        return res;
      },
      end(body?: string) {
        out.body = body;
        res.writableEnded = true;
        resolve(out);
      },
    };
    handler(
      { method, url, headers: { host: 'a.example' } } as IncomingMessage,
      res as unknown as ServerResponse,
    );
  });
}

const httpContext = (token = TOKEN) =>
  ({ challenge: { token, keyAuthorization: `${token}.${THUMB}` } }) as unknown as ChallengeContext;

test('only strings that can be challenge tokens and server names are looked up', () => {
  assert.ok(isWellFormedToken(TOKEN));
  for (const junk of [
    '',
    'short',
    'a'.repeat(129),
    `${TOKEN}/x`,
    '../../etc/passwd',
    'tok%2e%2e',
    `${TOKEN}=`,
  ]) {
    assert.equal(isWellFormedToken(junk), false, junk);
  }
  assert.ok(isWellFormedServerName('www.example.com'));
  assert.ok(isWellFormedServerName('1.0.0.127.in-addr.arpa'));
  for (const junk of [
    'localhost',
    'a..b',
    '-a.example',
    'a_b.example',
    `${'a'.repeat(64)}.example`,
    'A.example',
  ]) {
    assert.equal(isWellFormedServerName(junk), false, junk);
  }
});

test('http-01: a token presented by one process is answered by another through the store, and gone after cleanup', async () => {
  const shared = new MemoryStore();
  const presenter = new HttpChallengeSolver({ store: shared });
  const otherStore = countingStore(shared);
  const other = new HttpChallengeSolver({ store: otherStore, lookup: { cacheMs: 50 } });
  await presenter.present(httpContext());
  assert.deepEqual(await shared.list('challenges/'), [`challenges/http-01/${TOKEN}`]);

  const hit = await call(other.handler(), `/.well-known/acme-challenge/${TOKEN}`);
  assert.deepEqual([hit.status, hit.body], [200, `${TOKEN}.${THUMB}`]);
  const head = await call(other.handler(), `/.well-known/acme-challenge/${TOKEN}`, 'HEAD');
  assert.deepEqual([head.status, head.body], [200, undefined]);
  assert.equal(otherStore.gets, 1, 'the hit is remembered for a moment');

  await presenter.cleanup(httpContext());
  assert.deepEqual(await shared.list('challenges/'), []);
  await new Promise((resolve) => setTimeout(resolve, 60));
  const gone = await call(other.handler(), `/.well-known/acme-challenge/${TOKEN}`);
  assert.equal(gone.status, 404);

  // Through middleware(): a shared answer is served, a miss goes to the app.
  await presenter.present(httpContext());
  await new Promise((resolve) => setTimeout(resolve, 60));
  const viaMiddleware = await new Promise<Answer | 'next'>((resolve) => {
    const mw = other.middleware();
    const res = {
      headersSent: false,
      writeHead: () => res,
      end: (body?: string) => resolve({ status: 200, body, headers: {} }),
    };
    mw(
      { method: 'GET', url: `/.well-known/acme-challenge/${TOKEN}`, headers: {} } as IncomingMessage,
      res as unknown as ServerResponse,
      () => resolve('next'),
    );
  });
  assert.notEqual(viaMiddleware, 'next');
});

test('http-01: unknown tokens are never reflected, junk never reaches the store, misses are remembered', async () => {
  const store = countingStore(new MemoryStore());
  const solver = new HttpChallengeSolver({ store, lookup: { cacheMs: 60_000 } });
  const handler = solver.handler();
  const unknown = 'UNKNOWN-token-0123456789abcdef<script>';
  const junk = await call(handler, `/.well-known/acme-challenge/${unknown}`);
  assert.equal(junk.status, 404);
  assert.ok(!String(junk.body).includes('UNKNOWN'), 'the token is not echoed');
  for (const path of ['../../etc/passwd', 'x', `${TOKEN}/more`, `${'a'.repeat(300)}`]) {
    assert.equal((await call(handler, `/.well-known/acme-challenge/${path}`)).status, 404);
  }
  assert.equal(store.gets, 0, 'nothing that cannot be a token is looked up');

  const missing = 'MissingToken0123456789abcdefABCDEF';
  for (let i = 0; i < 50; i++) {
    const answer = await call(handler, `/.well-known/acme-challenge/${missing}`);
    assert.equal(answer.status, 404);
    assert.ok(!String(answer.body).includes(missing));
  }
  assert.equal(store.gets, 1, 'a miss is remembered');

  // Something in the store that is not "<token>.<thumbprint>" is not served either.
  const planted = 'PlantedToken0123456789abcdefABCDEF';
  await store.put(`challenges/http-01/${planted}`, '<html>not a key authorization</html>');
  assert.equal((await call(handler, `/.well-known/acme-challenge/${planted}`)).status, 404);
  // POST is never a challenge request.
  assert.equal((await call(handler, `/.well-known/acme-challenge/${TOKEN}`, 'POST')).status, 404);
});

test('http-01: lookups in flight are bounded; beyond that the answer is 503 without asking the store', async () => {
  const store = countingStore(new MemoryStore(), 100);
  const solver = new HttpChallengeSolver({ store, lookup: { maxInflight: 2 } });
  const handler = solver.handler();
  const answers = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      call(handler, `/.well-known/acme-challenge/Flood${i}-0123456789abcdefghijkl`),
    ),
  );
  assert.deepEqual(
    answers.map((a) => a.status),
    [404, 404, 503, 503, 503, 503],
  );
  assert.equal(store.gets, 2);
  // Concurrent requests for one token share one read.
  const same = await Promise.all(
    Array.from({ length: 5 }, () =>
      call(handler, '/.well-known/acme-challenge/SameToken-0123456789abcdefghijkl'),
    ),
  );
  assert.ok(same.every((a) => a.status === 404));
  assert.equal(store.gets, 3);
});

test('http-01 without a store answers from memory only, and the memory answer comes first with one', async () => {
  const memoryOnly = new HttpChallengeSolver();
  await memoryOnly.present(httpContext());
  assert.equal((await call(memoryOnly.handler(), `/.well-known/acme-challenge/${TOKEN}`)).status, 200);
  const store = countingStore(new MemoryStore());
  const withStore = new HttpChallengeSolver({ store });
  await withStore.present(httpContext());
  assert.equal((await call(withStore.handler(), `/.well-known/acme-challenge/${TOKEN}`)).status, 200);
  assert.equal(store.gets, 0, 'its own token is answered from memory');
});

const alpnContext = (name: string) => {
  const identifier = { type: 'dns' as const, value: name };
  return {
    identifier,
    challenge: {
      tlsAlpnCertificate: () =>
        buildTlsAlpnCertificate({ identifier, keyAuthorization: `${TOKEN}.${THUMB}` }),
    },
  } as unknown as ChallengeContext;
};

test('tls-alpn-01: a challenge presented by one process is found by another; cleanup removes only its own', async () => {
  const shared = new MemoryStore();
  const a = new TlsAlpnChallengeSolver({ store: shared });
  const b = new TlsAlpnChallengeSolver({ store: shared });
  const readerStore = countingStore(shared);
  const reader = new TlsAlpnChallengeSolver({ store: readerStore, lookup: { cacheMs: 10 } });
  await a.present(alpnContext('alpn.example'));
  assert.equal(reader.context('alpn.example'), undefined, 'not in the reader’s memory');
  assert.equal(reader.canLookup('alpn.example'), true);
  assert.ok(await reader.lookup('ALPN.example.'));
  assert.equal(await reader.lookup('other.example'), undefined);
  assert.equal(reader.canLookup('not a name'), false);
  assert.equal(reader.canLookup('localhost'), false);
  const gets = readerStore.gets;
  assert.equal(await reader.lookup('bad..name'), undefined);
  assert.equal(readerStore.gets, gets, 'junk names are not looked up');

  // b presents the same name later (another order); a's cleanup must leave b's challenge.
  await b.present(alpnContext('alpn.example'));
  await a.cleanup(alpnContext('alpn.example'));
  assert.deepEqual(await shared.list('challenges/'), ['challenges/tls-alpn-01/alpn.example']);
  await b.cleanup(alpnContext('alpn.example'));
  assert.deepEqual(await shared.list('challenges/'), []);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(await reader.lookup('alpn.example'), undefined);
});
