import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { Http01ListenerSolver } from '../../../src/solvers/http01-listener.ts';
import type { ChallengeContext } from '../../../src/solvers/solver.ts';
import { freePort } from '../../support/free-port.ts';

const TOKEN = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
const KEY_AUTH = `${TOKEN}.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI`;
const ctx = {
  identifier: { type: 'dns', value: 'd2.example.com' },
  challenge: { type: 'http-01', token: TOKEN, keyAuthorization: KEY_AUTH },
} as unknown as ChallengeContext;

/** One raw request: the path goes out as written (no normalisation), Host as given. */
function get(port: number, path: string, host: string, method = 'GET') {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('D2: the standalone listener answers only the pending token, with and without a port in Host, and closes afterwards', async () => {
  const port = await freePort();
  const solver = new Http01ListenerSolver({ port, host: '127.0.0.1' });
  await solver.present(ctx);
  try {
    assert.equal(solver.listening, true);
    const path = `/.well-known/acme-challenge/${TOKEN}`;
    // The CA's validators ask at once from several places (Pebble: 3 concurrent requests).
    const answers = await Promise.all([
      get(port, path, 'd2.example.com'),
      get(port, path, `d2.example.com:${port}`),
      get(port, `${path}?x=1`, 'D2.EXAMPLE.COM'),
    ]);
    for (const a of answers) assert.deepEqual(a, { status: 200, body: KEY_AUTH });
    assert.equal((await get(port, path, 'd2.example.com', 'HEAD')).status, 200);

    const other = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    for (const probe of [
      `/.well-known/acme-challenge/${other}`,
      `/.well-known/acme-challenge/../acme-challenge/${TOKEN}`,
      `/.well-known/acme-challenge/%2e%2e/${TOKEN}`,
      `/.well-known/acme-challenge/${TOKEN}/`,
      `/.well-known/acme-challenge/${TOKEN}x`,
      `/.well-known/acme-challenge/${'a'.repeat(4000)}`,
      `/${TOKEN}`,
      '/',
    ]) {
      const res = await get(port, probe, 'd2.example.com');
      assert.equal(res.status, 404, probe.slice(0, 80));
      assert.ok(!res.body.includes(other) && !res.body.includes('aaaa'), 'a requested token is never echoed');
    }
    assert.equal((await get(port, path, 'd2.example.com', 'POST')).status, 404);
  } finally {
    await solver.cleanup(ctx);
  }
  assert.equal(solver.listening, false, 'the listener closes with the last cleanup');
  await assert.rejects(get(port, '/', 'd2.example.com'), /ECONNREFUSED/);
});
