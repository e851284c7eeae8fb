import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, type TestContext, test } from 'node:test';
import { AcmeClient, Http01ListenerSolver, obtainCertificate } from '../../../src/index.ts';
import { assertNoNonceTwice } from '../../reliability/support.ts';
import { type FaultProxy, type ProxyLogEntry, startFaultProxy } from '../../support/fault-proxy.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';

// RELIABILITY A2: Pebble rejects 50 %, then 90 % of good nonces (PEBBLE_WFE_NONCEREJECT). One issuance
// per rate, with a fresh account, through the fault proxy (no faults of its own: it only keeps the
// request log). The client runs with its default retry policy, so the default bound is what is tested.

const BAD_NONCE = 'urn:ietf:params:acme:error:badNonce';

const storms = new Map<number, PebbleServer>();
before(async () => {
  const [fifty, ninety] = await Promise.all([
    startPebble({ nonceReject: 50 }),
    startPebble({ nonceReject: 90 }),
  ]);
  storms.set(50, fifty).set(90, ninety);
});
after(() => Promise.all([...storms.values()].map((p) => p.stop())));

/**
 * The POSTs of the log as chains: a request and its badNonce retries, in order. Sequential flows only
 * (one name, one account): a retry is the next POST to the same URL after a badNonce answer.
 */
function chains(log: readonly ProxyLogEntry[]): ProxyLogEntry[][] {
  const out: ProxyLogEntry[][] = [];
  for (const e of log) {
    if (e.method !== 'POST') continue;
    const open = out.at(-1);
    const last = open?.at(-1);
    if (open && last?.problemType === BAD_NONCE && last.path === e.path) open.push(e);
    else out.push([e]);
  }
  return out;
}

async function stormIssuance(t: TestContext, rate: number): Promise<void> {
  const pebble = storms.get(rate)!;
  let proxy: FaultProxy | undefined;
  let client: AcmeClient | undefined;
  try {
    proxy = await startFaultProxy({ target: pebble });
    client = new AcmeClient(proxy.directoryUrl, { caBundle: pebble.caBundle });
    const bound = client.http.retry.badNonceRetries;
    const account = await client.createAccount({ acceptTos: true });
    const name = `storm${rate}.example.com`;
    const solver = new Http01ListenerSolver({ port: pebble.httpPort, host: '127.0.0.1' });
    const result = await obtainCertificate(account, { names: [name], solvers: [solver] });
    assert.match(new X509Certificate(result.certificate).subjectAltName ?? '', new RegExp(`DNS:${name}`));
    await proxy.idle();
    const log = proxy.log;
    const posts = log.filter((e) => e.method === 'POST');
    const rejected = posts.filter((e) => e.problemType === BAD_NONCE);

    // No nonce is sent twice, and each one was handed out (Replay-Nonce) by an earlier answer.
    assertNoNonceTwice(log);
    for (const p of posts) {
      const source = log.find((e) => e.replayNonce === p.nonce);
      assert.ok(source && source.seq < p.seq, `the nonce of #${p.seq} came from an earlier answer`);
    }
    // Each badNonce answer carried a fresh nonce, and the retry that follows signs with exactly that
    // one: the next request is the retry itself, no newNonce in between.
    for (const r of rejected) {
      assert.equal(r.status, 400);
      assert.ok(r.replayNonce, `badNonce answer #${r.seq} carries a Replay-Nonce`);
      const next = log.find((e) => e.seq > r.seq);
      assert.ok(next, `#${r.seq} (${r.resource}) was retried`);
      assert.notEqual(next.resource, 'newNonce', `no newNonce after the badNonce answer #${r.seq}`);
      assert.equal(next.method, 'POST');
      assert.equal(next.path, r.path, `#${next.seq} retries ${r.path}`);
      assert.equal(next.nonce, r.replayNonce, `retry #${next.seq} uses the nonce of the badNonce answer`);
    }
    // One newNonce in all: the first request's. Every later nonce came from an answer.
    assert.equal(proxy.requests('newNonce').length, 1, 'newNonce once, for the first request');

    // Retries per request are bounded by the policy, and every request ended in a real answer.
    const requests = chains(log);
    const most = Math.max(...requests.map((c) => c.length - 1));
    for (const c of requests) {
      assert.ok(c.length - 1 <= bound, `${c[0]!.path}: ${c.length - 1} retries, bound ${bound}`);
      assert.notEqual(c.at(-1)!.problemType, BAD_NONCE, `${c[0]!.path} ended in a real answer`);
    }
    assert.equal(requests.length, posts.length - rejected.length, 'each rejection was retried once');
    // The default bound is sized for this: with `requests.length` signed requests, a 90 % storm fails an
    // issuance with probability about requests × 0.9^(bound + 1); it must stay far below 1e-3.
    const failureOdds = requests.length * 0.9 ** (bound + 1);
    assert.ok(failureOdds < 1e-4, `bound ${bound}: a 90 % storm fails an issuance with odds ${failureOdds}`);

    const share = rejected.length / posts.length;
    if (rate === 90) {
      // About 9 rejections per request are expected; fewer than one per request would mean the storm
      // did not happen (odds ≈ 4e-6 at 90 %).
      assert.ok(rejected.length >= requests.length, `Pebble rejected ${rejected.length} of ${posts.length}`);
    }
    t.diagnostic(
      `A2 ${rate} %: issued; ${requests.length} signed requests, ${posts.length} POSTs, ${rejected.length} badNonce (${(share * 100).toFixed(0)} %), at most ${most} retries for one request (bound ${bound})`,
    );
  } finally {
    client?.close();
    await proxy?.stop();
  }
}

test('A2: badNonce storm (PEBBLE_WFE_NONCEREJECT=50): issues; each retry signs with the Replay-Nonce of the rejection, no newNonce after it, no nonce twice, retries per request bounded', async (t) => {
  await stormIssuance(t, 50);
});

test('A2: badNonce storm (PEBBLE_WFE_NONCEREJECT=90): issues; each retry signs with the Replay-Nonce of the rejection, no newNonce after it, no nonce twice, retries per request bounded', async (t) => {
  await stormIssuance(t, 90);
});
