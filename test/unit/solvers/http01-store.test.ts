import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { test } from 'node:test';
import { HttpChallengeSolver } from '../../../src/solvers/http01-store.ts';
import type { ChallengeContext } from '../../../src/solvers/solver.ts';

const TOKEN = 'abcdefghijklmnopqrstuvwxyz012345';

function call(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  method: string,
  url: string,
  host?: string,
) {
  const out: { status?: number; headers?: Record<string, unknown>; body?: string } = {};
  const res = {
    writeHead(status: number, headers: Record<string, unknown>) {
      out.status = status;
      out.headers = headers;
      return res;
    },
    end(body?: string) {
      out.body = body;
    },
  } as unknown as ServerResponse;
  handler({ method, url, headers: host ? { host } : {} } as IncomingMessage, res);
  return out;
}

test('D6: serves exactly the presented tokens, 404 for others, and forgets them on cleanup', async () => {
  const solver = new HttpChallengeSolver();
  const ctx = {
    challenge: { token: TOKEN, keyAuthorization: `${TOKEN}.thumb` },
  } as unknown as ChallengeContext;
  await solver.present(ctx);
  const handler = solver.handler();
  const hit = call(handler, 'GET', `/.well-known/acme-challenge/${TOKEN}`, 'a.example');
  assert.deepEqual([hit.status, hit.body], [200, `${TOKEN}.thumb`]);
  assert.equal(
    call(handler, 'GET', '/.well-known/acme-challenge/other-token-0123456789', 'a.example').status,
    404,
  );
  assert.equal(call(handler, 'GET', '/.well-known/acme-challenge/../../etc/passwd', 'a.example').status, 404);
  await solver.cleanup(ctx);
  assert.equal(call(handler, 'GET', `/.well-known/acme-challenge/${TOKEN}`, 'a.example').status, 404);
  assert.equal(solver.pending, 0);
});

test('D3: cleanup after a challenge with an unusable token does nothing and does not throw (present refused it)', async () => {
  const solver = new HttpChallengeSolver();
  const ctx = {
    challenge: {
      get token(): string {
        throw new Error('the CA sent http-01 challenge with an unusable token');
      },
    },
  } as unknown as ChallengeContext;
  await assert.rejects(solver.present(ctx), /unusable token/);
  await solver.cleanup(ctx);
  assert.equal(solver.pending, 0);
});

test('everything else is redirected to https on the same host; a bad Host header is refused', () => {
  const handler = new HttpChallengeSolver().handler({ httpsPort: 8443 });
  const get = call(handler, 'GET', '/p?q=1', 'a.example:80');
  assert.deepEqual([get.status, get.headers?.location], [301, 'https://a.example:8443/p?q=1']);
  assert.equal(call(handler, 'POST', '/form', 'a.example').status, 308);
  assert.equal(call(handler, 'GET', '/', '[::1]:80').headers?.location, 'https://[::1]:8443/');
  assert.equal(call(handler, 'GET', '/', 'evil.example/@x').status, 400);
  assert.equal(call(handler, 'GET', '/').status, 400);
});

test('the middleware answers challenges and passes everything else on', async () => {
  const solver = new HttpChallengeSolver();
  await solver.present({
    challenge: { token: TOKEN, keyAuthorization: 'ka' },
  } as unknown as ChallengeContext);
  let nexts = 0;
  const mw = solver.middleware();
  const asHandler = (req: IncomingMessage, res: ServerResponse) => mw(req, res, () => nexts++);
  assert.equal(call(asHandler, 'GET', `/.well-known/acme-challenge/${TOKEN}`).status, 200);
  call(asHandler, 'GET', '/app');
  call(asHandler, 'GET', '/.well-known/acme-challenge/unknown-token-0123456789');
  assert.equal(nexts, 2);
});
