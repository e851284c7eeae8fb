import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, type TestContext, test } from 'node:test';
import {
  AbortedError,
  AcmeClient,
  type AcmeClientOptions,
  BadNonceError,
  BadServerResponseError,
  CaaError,
  Http01ListenerSolver,
  InvalidInputError,
  MalformedError,
  NetworkError,
  obtainCertificate,
  RateLimitedError,
  RejectedIdentifierError,
  ServerInternalError,
  TimeoutError,
} from '../../../src/index.ts';
import {
  combine,
  dropHeader,
  effective,
  type FaultProxy,
  mutateJson,
  type ProxyLogEntry,
  problem,
  problemReply,
  reply,
  reset,
  setHeader,
  stall,
} from '../../support/fault-proxy.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';
import { eventually, proxiedClient, rejection, uniqueName } from './proxied.ts';

// RELIABILITY.md series B (and A2/A21): server misbehaviour injected by a fault proxy in front of a
// real Pebble that keeps its default 5 % nonce rejection. Each test asserts on the proxy's request log.

const VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
/** Small backoff so retried requests cost milliseconds, not seconds. */
const FAST_RETRY = { backoffBaseMs: 50, backoffMaxMs: 200 };
/**
 * Tolerance for gaps measured at the proxy against client-side sleeps that start after the answer
 * arrives: timers and the event loop may add or shave a few ms. Retry-After checks in B1/B2 stay strict.
 */
const SLACK_MS = 15;
const HTML_500 =
  '<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>';

let pebble: PebbleServer;
before(async () => {
  pebble = await startPebble();
});
after(() => pebble?.stop());

/** A fresh proxy and a client talking through it, both closed when the test ends. */
const setup = (t: TestContext, opts: AcmeClientOptions = {}) => proxiedClient(t, pebble, opts);

const solver = () => new Http01ListenerSolver({ port: pebble.httpPort, host: '127.0.0.1' });

const posts = (log: readonly ProxyLogEntry[]) => log.filter((e) => e.method === 'POST');

/** Log entries after `mark` (an earlier proxy.log.length), optionally for one resource. */
const since = (proxy: FaultProxy, mark: number, resource?: string) =>
  proxy.log.slice(mark).filter((e) => resource === undefined || e.resource === resource);

/**
 * The nonce rules of RFC 8555 §6.5 as seen on the wire: every POST carries a nonce, no nonce is sent
 * twice, and each one was handed out (Replay-Nonce) by an answer that came before it.
 */
function assertNonceHygiene(log: readonly ProxyLogEntry[]): void {
  const seen = new Set<string>();
  for (const p of posts(log)) {
    assert.ok(p.nonce, `POST ${p.path} (#${p.seq}) carries a nonce`);
    assert.ok(!seen.has(p.nonce), `nonce of POST ${p.path} (#${p.seq}) was already sent`);
    seen.add(p.nonce);
    const source = log.find((e) => e.replayNonce === p.nonce);
    assert.ok(source, `nonce of POST ${p.path} (#${p.seq}) was handed out by the server`);
    assert.ok(source.seq < p.seq, `nonce of #${p.seq} came from an earlier answer (#${source.seq})`);
  }
}

/** A signal the caller aborts after `ms` (an abort, not a deadline: AbortSignal.timeout gives TimeoutError). */
function abortAfter(ms: number): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('cancelled by the caller')), ms);
  return controller.signal;
}

const rateLimited = (retryAfter: string) =>
  problemReply(429, 'rateLimited', 'too many new orders recently', {
    headers: { 'retry-after': retryAfter },
  });

test('B1: 429 with Retry-After waits, then retries with a fresh nonce', async (t) => {
  const { proxy, client } = await setup(t, { retry: FAST_RETRY });
  const limited = proxy.rule({ resource: 'newOrder', times: 1, action: rateLimited('2') });
  const account = await client.createAccount({ acceptTos: true });
  const name = uniqueName('b1');
  const result = await obtainCertificate(account, { names: [name], solvers: [solver()] });
  assert.deepEqual(result.identifiers, [{ type: 'dns', value: name }]);
  assert.equal(limited.applied, 1);

  const orders = proxy.requests('newOrder');
  const [first, retry] = orders;
  assert.ok(first && retry, 'the rate-limited newOrder was sent again');
  assert.equal(first.status, 429);
  assert.ok(
    retry.at - first.at >= 2000,
    `no newOrder sooner than Retry-After (2 s): the retry came after ${retry.at - first.at} ms`,
  );
  // The retry is signed again: a nonce never sent before, the one the 429 answer handed out.
  const earlier = new Set(posts(proxy.log.filter((e) => e.seq < retry.seq)).map((e) => e.nonce));
  assert.ok(retry.nonce && !earlier.has(retry.nonce), 'the retried newOrder uses a new nonce');
  assert.equal(retry.nonce, first.replayNonce, 'the retry uses the Replay-Nonce of the 429 answer');
  assert.ok(
    orders.some((o) => o.status === 201),
    'the order was eventually created',
  );
  assertNonceHygiene(proxy.log);
});

test('B1: 429 with an IMF-fixdate Retry-After waits until that date', async (t) => {
  const { proxy, client } = await setup(t, { retry: FAST_RETRY });
  let until = 0;
  proxy.rule({
    resource: 'newOrder',
    times: 1,
    action: {
      reply: () => {
        // Whole seconds, as an HTTP-date has them; at least 2 s ahead.
        until = Math.ceil(Date.now() / 1000) * 1000 + 2000;
        return {
          status: 429,
          headers: {
            'content-type': 'application/problem+json',
            'retry-after': new Date(until).toUTCString(),
          },
          body: problem('rateLimited', 'slow down', { status: 429 }),
        };
      },
    },
  });
  const account = await client.createAccount({ acceptTos: true });
  const order = await account.newOrder({ identifiers: [uniqueName('b1-date')] });
  assert.equal(order.status, 'pending');
  const [first, retry] = proxy.requests('newOrder');
  assert.ok(first && retry);
  assert.equal(first.status, 429);
  assert.ok(retry.at >= until - 5, `retry ${until - retry.at} ms before the Retry-After date`);
  assert.ok(retry.at - until < 3000, 'the retry came soon after the date');
  assert.notEqual(retry.nonce, first.nonce);
  assertNonceHygiene(proxy.log);
});

test('B1: a Retry-After beyond the cap fails with RateLimitedError carrying retryAfter', async (t) => {
  const { proxy, client } = await setup(t, { retry: { maxRetryAfterMs: 1000 } });
  proxy.rule({ resource: 'newOrder', action: rateLimited('30') });
  const account = await client.createAccount({ acceptTos: true });
  const started = Date.now();
  const err = await rejection(account.newOrder({ identifiers: [uniqueName('b1-cap')] }));
  assert.ok(err instanceof RateLimitedError, `got ${String(err)}`);
  assert.equal(err.code, 'ERR_ACME_RATE_LIMITED');
  assert.equal(err.status, 429);
  assert.equal(err.detail, 'too many new orders recently');
  assert.ok(err.retryAfter instanceof Date, 'retryAfter is set');
  const inMs = err.retryAfter.getTime() - started;
  assert.ok(inMs > 28_000 && inMs < 32_000, `retryAfter is ~30 s ahead (${inMs} ms)`);
  assert.ok(Date.now() - started < 1000, 'failed at once instead of waiting');
  assert.equal(proxy.requests('newOrder').length, 1, 'no retry was sent');
});

test('B1: a 429 without Retry-After is not retried blindly', async (t) => {
  const { proxy, client } = await setup(t, { retry: FAST_RETRY });
  proxy.rule({ resource: 'newOrder', action: problemReply(429, 'rateLimited', 'slow down') });
  const account = await client.createAccount({ acceptTos: true });
  const err = await rejection(account.newOrder({ identifiers: [uniqueName('b1-noretry')] }));
  assert.ok(err instanceof RateLimitedError, `got ${String(err)}`);
  assert.equal(err.retryAfter, undefined);
  assert.equal(proxy.requests('newOrder').length, 1, 'no retry was sent');
});

test('B2: 503 on newNonce and newOrder is retried, not fatal', async (t) => {
  const { proxy, client } = await setup(t, { retry: FAST_RETRY });
  const overloaded = (nonce: boolean) =>
    problemReply(503, 'serverInternal', 'overloaded, come back soon', {
      headers: { 'retry-after': '1' },
      nonce,
    });
  const nonceRule = proxy.rule({ resource: 'newNonce', times: 1, action: overloaded(false) });
  const orderRule = proxy.rule({ resource: 'newOrder', times: 1, action: overloaded(false) });
  const account = await client.createAccount({ acceptTos: true });
  const order = await account.newOrder({ identifiers: [uniqueName('b2')] });
  assert.equal(order.status, 'pending');
  assert.equal(nonceRule.applied, 1);
  assert.equal(orderRule.applied, 1);

  const [nonce503, nonceOk] = proxy.requests('newNonce');
  assert.ok(nonce503 && nonceOk);
  assert.equal(nonce503.status, 503);
  assert.equal(nonceOk.status, 200);
  assert.ok(nonceOk.at - nonce503.at >= 1000, 'newNonce retried after Retry-After');

  const [order503, orderRetry] = proxy.requests('newOrder');
  assert.ok(order503 && orderRetry);
  assert.equal(order503.status, 503);
  assert.ok(orderRetry.at - order503.at >= 1000, 'newOrder retried after Retry-After');
  // The 503 carried no nonce: the client asked for a new one between the two attempts.
  const between = proxy.log.filter((e) => e.seq > order503.seq && e.seq < orderRetry.seq);
  assert.deepEqual(
    between.map((e) => e.resource),
    ['newNonce'],
  );
  assertNonceHygiene(proxy.log);
});

test('B3: a 500 HTML answer and a reset connection are retried with backoff; attempts are bounded', async (t) => {
  const { proxy, client } = await setup(t, { retry: { ...FAST_RETRY, attempts: 3 } });
  proxy.rule({
    resource: 'newOrder',
    times: 1,
    action: reply(500, { 'content-type': 'text/html' }, HTML_500),
  });
  proxy.rule({ resource: 'newOrder', times: 1, action: reset() });
  const account = await client.createAccount({ acceptTos: true });
  const order = await account.newOrder({ identifiers: [uniqueName('b3')] });
  assert.equal(order.status, 'pending');

  const orders = proxy.requests('newOrder');
  const [html, broken, ok] = orders;
  assert.ok(html && broken && ok);
  assert.equal(html.status, 500);
  assert.deepEqual(broken.faults, ['reset']);
  assert.equal(orders.at(-1)?.status, 201, 'then the order was created');
  // Backoff with jitter: the n-th wait is within [ceiling/2, ceiling], ceiling = min(max, base * 2^(n-1)).
  assert.ok(broken.at - html.at >= 25 - SLACK_MS, `first backoff ${broken.at - html.at} ms`);
  assert.ok(ok.at - broken.at >= 50 - SLACK_MS, `second backoff ${ok.at - broken.at} ms`);
  assert.ok(ok.at - html.at < 2000, 'backoff stays small with backoffMaxMs 200');
  assert.equal(
    new Set([html.nonce, broken.nonce, ok.nonce]).size,
    3,
    'each attempt signed with its own nonce',
  );
  assertNonceHygiene(proxy.log);

  // A permanent 500: exactly retry.attempts tries, then the server's error.
  proxy.clearRules();
  const mark = proxy.log.length;
  proxy.rule({ resource: 'newOrder', action: reply(500, { 'content-type': 'text/html' }, HTML_500) });
  const err = await rejection(account.newOrder({ identifiers: [uniqueName('b3-perm')] }));
  assert.ok(err instanceof ServerInternalError, `got ${String(err)}`);
  assert.equal(err.status, 500);
  assert.match(err.detail, /Internal Server Error/);
  assert.doesNotMatch(err.message, /<[a-z]/i, 'no HTML tags in the message');
  assert.equal(since(proxy, mark, 'newOrder').length, client.http.retry.attempts);
  assert.equal(client.http.retry.attempts, 3);
  assertNonceHygiene(proxy.log);
});

test('B3: a connection reset on every attempt ends in NetworkError after retry.attempts', async (t) => {
  const { proxy, client } = await setup(t, { retry: { ...FAST_RETRY, attempts: 3 } });
  const account = await client.createAccount({ acceptTos: true });
  proxy.rule({ resource: 'newOrder', action: reset() });
  const err = await rejection(account.newOrder({ identifiers: [uniqueName('b3-reset')] }));
  assert.ok(err instanceof NetworkError, `got ${String(err)}`);
  assert.equal(err.code, 'ERR_NETWORK');
  const tries = proxy.requests('newOrder');
  assert.equal(tries.length, 3);
  assert.equal(new Set(tries.map((e) => e.nonce)).size, 3, 'a fresh nonce for every attempt');
  assertNonceHygiene(proxy.log);
});

test('B3: a finalize whose answer was lost (reset after Pebble processed it) still ends in a certificate', async (t) => {
  // A retried finalize reaches an order that is already "processing" or "valid"; the CA answers
  // orderNotReady. The certificate exists: the client should look at the order instead of failing.
  const { proxy, client } = await setup(t, { retry: FAST_RETRY });
  const lost = proxy.rule({ resource: 'finalize', times: 1, action: reset('after') });
  const account = await client.createAccount({ acceptTos: true });
  const name = uniqueName('b3-finalize');
  const result = await obtainCertificate(account, { names: [name], solvers: [solver()] });
  assert.equal(lost.applied, 1);
  assert.deepEqual(result.identifiers, [{ type: 'dns', value: name }]);
});

test('B3: a challenge answer lost after Pebble accepted it does not fail the issuance', async (t) => {
  // The retried POST {} reaches a challenge that is already "processing" or "valid"; Pebble answers
  // 400 malformed ("only status pending"). Validation went ahead: the client should poll the authorization.
  const { proxy, client } = await setup(t, { retry: FAST_RETRY });
  const lost = proxy.rule({ resource: 'chall', times: 1, action: reset('after') });
  const account = await client.createAccount({ acceptTos: true });
  const name = uniqueName('b3-chall');
  const result = await obtainCertificate(account, { names: [name], solvers: [solver()] });
  assert.equal(lost.applied, 1);
  assert.deepEqual(result.identifiers, [{ type: 'dns', value: name }]);
});

test('B4: badNonce without a Replay-Nonce header fetches a new nonce; retries are bounded', async (t) => {
  const { proxy, client } = await setup(t, { retry: { ...FAST_RETRY, badNonceRetries: 2 } });
  const badNonce = problemReply(400, 'badNonce', 'JWS has an invalid anti-replay nonce', { nonce: false });
  const account = await client.createAccount({ acceptTos: true });

  // Once: recovers with a nonce from newNonce.
  let mark = proxy.log.length;
  proxy.rule({ resource: 'newOrder', times: 1, action: badNonce });
  const order = await account.newOrder({ identifiers: [uniqueName('b4')] });
  assert.equal(order.status, 'pending');
  const afterFirst = since(proxy, mark).map((e) => `${e.resource}:${e.status}`);
  assert.deepEqual(afterFirst.slice(0, 2), ['newOrder:400', 'newNonce:200']);
  assert.match(afterFirst[2] ?? '', /^newOrder:(201|400)$/);
  assertNonceHygiene(proxy.log);

  // Always: badNonceRetries + 1 attempts, each after a newNonce, then BadNonceError.
  proxy.clearRules();
  mark = proxy.log.length;
  proxy.rule({ resource: 'newOrder', action: badNonce });
  const err = await rejection(account.newOrder({ identifiers: [uniqueName('b4-perm')] }));
  assert.ok(err instanceof BadNonceError, `got ${String(err)}`);
  assert.equal(err.code, 'ERR_ACME_BAD_NONCE');
  const sequence = since(proxy, mark).map((e) => e.resource);
  assert.equal(since(proxy, mark, 'newOrder').length, client.http.retry.badNonceRetries + 1);
  assert.deepEqual(sequence, ['newOrder', 'newNonce', 'newOrder', 'newNonce', 'newOrder']);
  assertNonceHygiene(proxy.log);
});

test('B4: an error answer without Replay-Nonce reports the real error, and the next request fetches a nonce', async (t) => {
  const { proxy, client } = await setup(t, { retry: FAST_RETRY });
  const account = await client.createAccount({ acceptTos: true });
  const mark = proxy.log.length;
  proxy.rule({
    resource: 'newOrder',
    times: 1,
    action: problemReply(403, 'unauthorized', 'account may not order this name', { nonce: false }),
  });
  const err = await rejection(account.newOrder({ identifiers: [uniqueName('b4-real')] }));
  assert.ok(err instanceof Error && 'code' in err);
  assert.equal(err.code, 'ERR_ACME_UNAUTHORIZED');
  assert.match(err.message, /may not order this name/);

  // A real Pebble answer (201) with its Replay-Nonce removed: the next POST asks newNonce first.
  const drop = proxy.rule({
    name: 'drop',
    resource: 'newOrder',
    times: 1,
    action: dropHeader('replay-nonce'),
  });
  await account.newOrder({ identifiers: [uniqueName('b4-drop')] });
  await account.newOrder({ identifiers: [uniqueName('b4-next')] });
  assert.equal(drop.applied, 1);
  const log = since(proxy, mark);
  // Each answer that carried no nonce is followed by a newNonce request, and by nothing else.
  for (const [i, e] of log.entries()) {
    if (e.method !== 'POST' || e.replayNonce !== undefined) continue;
    assert.equal(
      log[i + 1]?.resource,
      'newNonce',
      `#${e.seq} (${e.status}, no nonce) is followed by newNonce`,
    );
  }
  assert.equal(log.filter((e) => e.rule === 'drop' || e.status === 403).length, 2);
  assertNonceHygiene(proxy.log);
});

test('A2/B1-B4: no nonce is ever sent twice across an issuance with injected faults', async (t) => {
  const { proxy, client } = await setup(t, { retry: FAST_RETRY });
  const html = reply(500, { 'content-type': 'text/html' }, HTML_500);
  const rules = [
    proxy.rule({ resource: 'newNonce', times: 1, action: reply(503, {}, undefined, { nonce: false }) }),
    proxy.rule({ resource: 'newAccount', times: 1, action: dropHeader('replay-nonce') }),
    proxy.rule({ resource: 'newOrder', times: 1, action: rateLimited('1') }),
    proxy.rule({ resource: 'authz', times: 1, action: reset() }),
    proxy.rule({ resource: 'chall', times: 1, action: html }),
    proxy.rule({ resource: 'finalize', times: 1, action: problemReply(400, 'badNonce', 'stale nonce') }),
    proxy.rule({ resource: 'order', times: 1, action: stall(200) }),
    proxy.rule({ resource: 'cert', times: 1, action: reply(503, { 'retry-after': '0' }) }),
  ];
  const account = await client.createAccount({ acceptTos: true });
  const name = uniqueName('nonces');
  const result = await obtainCertificate(account, { names: [name], solvers: [solver()] });
  assert.match(result.chain, /BEGIN CERTIFICATE/);
  for (const r of rules) assert.equal(r.applied, 1, `rule ${r.name} fired`);

  assertNonceHygiene(proxy.log);
  // After a badNonce that carried a Replay-Nonce (Pebble's own 5 % or injected), the retry uses that nonce directly.
  const ps = posts(proxy.log);
  for (const [i, p] of ps.entries()) {
    if (p.problemType !== 'urn:ietf:params:acme:error:badNonce' || !p.replayNonce) continue;
    const next = ps.slice(i + 1).find((q) => q.path === p.path);
    assert.equal(
      next?.nonce,
      p.replayNonce,
      `retry of ${p.path} (#${p.seq}) uses the badNonce answer's nonce`,
    );
  }
});

test('A4, B5: polling honours Retry-After on order/authz polls', async (t) => {
  const { proxy, client } = await setup(t, { retry: FAST_RETRY });
  const account = await client.createAccount({ acceptTos: true });
  const order = await account.newOrder({ identifiers: [uniqueName('b5')] });
  const [authz] = await order.authorizations();
  assert.ok(authz);
  const challenge = authz.challenge('http-01');
  assert.ok(challenge);
  const http01 = solver();
  const ctx = { identifier: authz.identifier, challenge, authorization: authz };
  let mark = proxy.log.length;
  await http01.present(ctx, AbortSignal.timeout(10_000));
  try {
    const stillPending = combine(
      mutateJson((o: { status: string }) => ({ ...o, status: 'pending' })),
      setHeader('retry-after', '2'),
    );
    proxy.rule({ resource: 'authz', method: 'POST', times: 1, action: stillPending });
    proxy.rule({ resource: 'order', method: 'POST', times: 1, action: stillPending });
    mark = proxy.log.length;
    await challenge.respond();
    await authz.wait();
    assert.equal(authz.status, 'valid');
    await order.waitWhile(['pending']);
    assert.equal(order.status, 'ready');
  } finally {
    await http01.cleanup(ctx, AbortSignal.timeout(10_000));
  }
  for (const resource of ['authz', 'order'] as const) {
    // Polls the client meant to send: one Pebble refused with its random badNonce is sent again at once.
    const polls = effective(since(proxy, mark, resource));
    assert.ok(polls.length >= 2, `${resource} polled again after Retry-After`);
    const gap = polls[1]!.at - polls[0]!.at;
    assert.ok(gap >= 2000 - SLACK_MS, `${resource} polls ${gap} ms apart, Retry-After said 2 s`);
    assert.ok(gap < 4000, `${resource} poll did not wait much longer than asked (${gap} ms)`);
  }
  // The first poll is quick (firstDelayMs 250), not a fixed 5 s sleep.
  const respond = since(proxy, mark, 'chall')[0]!;
  const firstAuthzPoll = since(proxy, mark, 'authz')[0]!;
  assert.ok(firstAuthzPoll.at - respond.at < 1500, 'first poll soon after the challenge answer');
  assertNonceHygiene(proxy.log);
});

test('B5: Retry-After on polls: 0 and negative clamp to the minimum, huge to the maximum, garbage falls back to backoff', async (t) => {
  const { proxy, client } = await setup(t, {
    retry: FAST_RETRY,
    // Backoff without Retry-After is then always within [200, 400] ms (base = max = 400, half of it jitter).
    polling: {
      firstDelayMs: 10,
      backoffBaseMs: 400,
      maxDelayMs: 400,
      minRetryAfterMs: 100,
      maxRetryAfterMs: 1200,
    },
  });
  const account = await client.createAccount({ acceptTos: true });
  const order = await account.newOrder({ identifiers: [uniqueName('b5-clamp')] });
  const [authz] = await order.authorizations();
  const challenge = authz?.challenge('http-01');
  assert.ok(authz && challenge);
  const http01 = solver();
  const ctx = { identifier: authz.identifier, challenge, authorization: authz };
  await http01.present(ctx, AbortSignal.timeout(10_000));
  try {
    await challenge.respond();
    await authz.wait();
  } finally {
    await http01.cleanup(ctx, AbortSignal.timeout(10_000));
  }
  const pendingWith = (retryAfter: string) =>
    combine(
      mutateJson((o: { status: string }) => ({ ...o, status: 'pending' })),
      setHeader('retry-after', retryAfter),
    );
  for (const value of ['soon, please', '0', '-5', '999999999']) {
    proxy.rule({ resource: 'order', method: 'POST', times: 1, action: pendingWith(value) });
  }
  const mark = proxy.log.length;
  await order.waitWhile(['pending']);
  assert.equal(order.status, 'ready');
  // Pebble's random badNonce rejections (each poll sent again at once) left out.
  const polls = effective(since(proxy, mark, 'order'));
  assert.equal(polls.length, 5);
  const gaps = polls.slice(1).map((p, i) => p.at - polls[i]!.at);
  const [garbage, zero, negative, huge] = gaps as [number, number, number, number];
  // Garbage: ignored, so the backoff applies: [200, 400] ms, neither 0 nor a long wait.
  assert.ok(garbage >= 200 - SLACK_MS && garbage < 1100, `garbage Retry-After → backoff (${garbage} ms)`);
  assert.ok(zero >= 100 - SLACK_MS && zero < 900, `Retry-After 0 → minRetryAfterMs (${zero} ms)`);
  assert.ok(
    negative >= 100 - SLACK_MS && negative < 900,
    `Retry-After -5 → minRetryAfterMs (${negative} ms)`,
  );
  assert.ok(huge >= 1200 - SLACK_MS && huge < 2500, `Retry-After 999999999 → maxRetryAfterMs (${huge} ms)`);
});

test('B6: subproblems are exposed with their identifiers', async (t) => {
  const { proxy, client } = await setup(t, { retry: FAST_RETRY });
  const account = await client.createAccount({ acceptTos: true });
  const [a, b] = [uniqueName('b6-a'), uniqueName('b6-b')];
  proxy.rule({
    resource: 'newOrder',
    action: problemReply(400, 'malformed', 'some identifiers were refused', {
      extra: {
        subproblems: [
          problem('rejectedIdentifier', `${a} is on the block list`, {
            identifier: { type: 'dns', value: a },
          }),
          problem('caa', `CAA records forbid issuance for ${b}`, { identifier: { type: 'dns', value: b } }),
        ],
      },
    }),
  });
  const err = await rejection(account.newOrder({ identifiers: [a, b] }));
  assert.ok(err instanceof MalformedError, `got ${String(err)}`);
  assert.equal(err.status, 400);
  assert.equal(err.subproblems.length, 2);
  assert.ok(err.subproblems[0] instanceof RejectedIdentifierError);
  assert.ok(err.subproblems[1] instanceof CaaError);
  assert.deepEqual(err.subproblems[0].identifier, { type: 'dns', value: a });
  assert.equal(err.subproblems[1].identifier?.value, b);
  assert.match(err.describe(), new RegExp(`${a}[\\s\\S]*${b}`));
  assert.equal(proxy.requests('newOrder').length, 1, 'a 400 is final: no retry');
});

test('B10: a plain-http directory on a non-loopback host is refused before any request', async (t) => {
  assert.throws(() => new AcmeClient('http://acme.example.com/directory'), InvalidInputError);

  // A directory (through the proxy) whose resources point at plain http on a public host.
  const { proxy, client } = await setup(t, { retry: FAST_RETRY });
  proxy.rule({
    resource: 'directory',
    action: mutateJson((dir: Record<string, unknown>) => ({
      ...dir,
      newOrder: 'http://acme.example.com/order-plz',
    })),
  });
  const err = await rejection(client.createAccount({ acceptTos: true }));
  assert.ok(err instanceof BadServerResponseError, `got ${String(err)}`);
  assert.match(err.message, /newOrder/);
  assert.deepEqual(
    proxy.log.map((e) => e.resource),
    ['directory'],
    'nothing but the directory was fetched',
  );
});

test('B10: a directory missing newNonce gives BadServerResponseError', async (t) => {
  const { proxy, client } = await setup(t, { retry: FAST_RETRY });
  proxy.rule({
    resource: 'directory',
    action: mutateJson((dir: Record<string, unknown>) => {
      delete dir.newNonce;
    }),
  });
  const err = await rejection(client.createAccount({ acceptTos: true }));
  assert.ok(err instanceof BadServerResponseError, `got ${String(err)}`);
  assert.match(err.message, /newNonce/);
  assert.ok(
    proxy.log.every((e) => e.resource === 'directory'),
    'no request beyond the directory',
  );
});

test('B15: newOrder without Location gives BadServerResponseError', async (t) => {
  const { proxy, client } = await setup(t, { retry: FAST_RETRY });
  proxy.rule({ resource: 'newAccount', times: 1, action: dropHeader('location') });
  const noAccount = await rejection(client.createAccount({ acceptTos: true }));
  assert.ok(noAccount instanceof BadServerResponseError, `got ${String(noAccount)}`);
  assert.match(noAccount.message, /Location/);

  const account = await client.createAccount({ acceptTos: true });
  proxy.rule({ resource: 'newOrder', times: 1, action: dropHeader('location') });
  const err = await rejection(account.newOrder({ identifiers: [uniqueName('b15')] }));
  assert.ok(err instanceof BadServerResponseError, `got ${String(err)}`);
  assert.match(err.message, /Location/);
  // Not retried (Pebble's own random badNonce answers, each sent again with a fresh nonce, left out).
  assert.equal(effective(proxy.requests('newOrder')).length, 1);
});

test('B15: a relative Location resolves against the request URL', async (t) => {
  const { proxy, client } = await setup(t, { retry: FAST_RETRY });
  const account = await client.createAccount({ acceptTos: true });
  let absolute = '';
  proxy.rule({
    resource: 'newOrder',
    times: 1,
    // https://host/my-order/X → "my-order/X", relative to the request URL https://host/order-plz.
    action: setHeader('location', (value) => {
      absolute = String(value);
      return new URL(absolute).pathname.slice(1);
    }),
  });
  const order = await account.newOrder({ identifiers: [uniqueName('b15-rel')] });
  assert.match(absolute, /^https:\/\/127\.0\.0\.1:\d+\/my-order\//);
  assert.equal(order.url, absolute);
  assert.ok(order.url.startsWith(proxy.origin));
  await order.refresh();
  const polls = proxy.requests('order', 'POST');
  assert.equal(polls.at(-1)?.status, 200);
  assert.ok(polls.every((p) => p.path === new URL(absolute).pathname && p.jwsUrl === absolute));
});

test('A21: every request carries User-Agent acmekit/<version> node/<version>', async (t) => {
  const { proxy, client } = await setup(t, { retry: FAST_RETRY });
  const account = await client.createAccount({ acceptTos: true });
  const order = await account.newOrder({ identifiers: [uniqueName('a21')] });
  await order.authorizations();
  await order.refresh();
  const expected = `acmekit/${VERSION} node/${process.versions.node}`;
  const kinds = new Set(proxy.log.map((e) => `${e.method} ${e.resource}`));
  for (const kind of [
    'GET directory',
    'HEAD newNonce',
    'POST newAccount',
    'POST newOrder',
    'POST authz',
    'POST order',
  ]) {
    assert.ok(kinds.has(kind), `${kind} was sent`);
  }
  for (const e of proxy.log) assert.equal(e.userAgent, expected, `${e.method} ${e.path}`);
});

test('B13: a per-request timeout fires on a stalled server', async (t) => {
  const { proxy, client } = await setup(t, { timeoutMs: 500, retry: { ...FAST_RETRY, attempts: 2 } });
  const account = await client.createAccount({ acceptTos: true });
  proxy.rule({ resource: 'newOrder', action: stall(10_000) });
  const started = Date.now();
  const err = await rejection(account.newOrder({ identifiers: [uniqueName('b13')] }));
  const took = Date.now() - started;
  // DESIGN: retries cover badNonce, 429, 5xx and broken connections; a timeout surfaces as TimeoutError
  // (a retried POST could be one the server already acted on). Attempts stay within retry.attempts.
  assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
  assert.equal(err.code, 'ERR_TIMEOUT');
  const tries = proxy.requests('newOrder');
  assert.ok(tries.length >= 1 && tries.length <= client.http.retry.attempts, `${tries.length} attempts`);
  assert.ok(took >= 500, `fired after the deadline (${took} ms)`);
  assert.ok(took < tries.length * 500 + 1500, `fired near the deadline (${took} ms)`);
  // The client hung up: the proxy sees the connection go instead of holding a socket for 10 s.
  await eventually(() => tries.every((e) => e.clientClosed));
  for (const e of tries) assert.ok(e.clientClosed, `connection of #${e.seq} closed by the client`);

  // The whole flow has a deadline too (obtain timeoutMs), below the per-request one here.
  const slow = new AcmeClient(proxy.directoryUrl, { caBundle: pebble.caBundle, timeoutMs: 30_000 });
  t.after(() => slow.close());
  const slowAccount = slow.account(account.toCredentials());
  const flowStart = Date.now();
  const flowErr = await rejection(
    obtainCertificate(slowAccount, { names: [uniqueName('b13-flow')], solvers: [solver()], timeoutMs: 800 }),
  );
  assert.ok(flowErr instanceof TimeoutError, `got ${String(flowErr)}`);
  const flowTook = Date.now() - flowStart;
  assert.ok(flowTook >= 800 && flowTook < 2500, `the flow stopped at its deadline (${flowTook} ms)`);
});

test('an aborted signal stops the flow with AbortedError', async (t) => {
  const { proxy, client } = await setup(t, { retry: FAST_RETRY });
  const account = await client.createAccount({ acceptTos: true });

  // While a request hangs.
  proxy.rule({ resource: 'newOrder', times: 1, action: stall(Number.POSITIVE_INFINITY) });
  let started = Date.now();
  const hanging = await rejection(
    account.newOrder({ identifiers: [uniqueName('abort')], signal: abortAfter(200) }),
  );
  assert.ok(hanging instanceof AbortedError, `got ${String(hanging)}`);
  assert.equal(hanging.code, 'ERR_ABORTED');
  assert.ok(Date.now() - started < 1500, 'stopped promptly');
  const [stalled] = proxy.requests('newOrder');
  assert.equal(proxy.requests('newOrder').length, 1);
  await eventually(() => stalled?.clientClosed === true);
  assert.ok(stalled?.clientClosed, 'the aborted request closed its connection');

  // While waiting out a Retry-After.
  proxy.clearLog();
  proxy.rule({ resource: 'newOrder', times: 1, action: rateLimited('30') });
  started = Date.now();
  const waiting = await rejection(
    account.newOrder({ identifiers: [uniqueName('abort-wait')], signal: abortAfter(300) }),
  );
  assert.ok(waiting instanceof AbortedError, `got ${String(waiting)}`);
  assert.ok(Date.now() - started < 1500, 'stopped promptly');
  assert.equal(proxy.requests('newOrder').length, 1, 'no retry after the abort');

  // A whole issuance with an already-aborted signal sends nothing.
  proxy.clearLog();
  const controller = new AbortController();
  controller.abort(new Error('shutting down'));
  const before = await rejection(
    obtainCertificate(account, {
      names: [uniqueName('abort-obtain')],
      solvers: [solver()],
      signal: controller.signal,
    }),
  );
  assert.ok(before instanceof AbortedError, `got ${String(before)}`);
  assert.equal(proxy.log.length, 0);
});
