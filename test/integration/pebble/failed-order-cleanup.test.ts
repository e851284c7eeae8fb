import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import {
  type Account,
  AcmeClient,
  AuthorizationFailedError,
  type ChallengeContext,
  obtainCertificate,
  type Solver,
} from '../../../src/index.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';

let pebble: PebbleServer;
let client: AcmeClient;
let account: Account;
before(async () => {
  pebble = await startPebble({ authzReuse: 0 });
  client = new AcmeClient(pebble.directoryUrl, { caBundle: pebble.caBundle });
  account = await client.createAccount({ acceptTos: true });
});
after(async () => {
  client?.close();
  await pebble?.stop();
});

/**
 * http-01 on Pebble's port that answers `good` correctly and `bad` wrongly, and holds the wrong answer
 * until `good`'s authorization is valid, so the order fails with one authorization already valid.
 */
function splitSolver(bad: string): { solver: Solver; contexts: ChallengeContext[]; close(): Promise<void> } {
  const contexts: ChallengeContext[] = [];
  let server: Server | undefined;
  const solver: Solver = {
    type: 'http-01',
    async present(ctx) {
      contexts.push(ctx);
      if (server) return;
      server = createServer(async (req, res) => {
        const ctx = contexts.find((c) => req.url?.endsWith(`/${c.challenge.token}`));
        if (!ctx) return void res.writeHead(404).end();
        if (ctx.identifier.value !== bad) return void res.end(ctx.challenge.keyAuthorization);
        const good = contexts.find((c) => c !== ctx);
        for (let i = 0; i < 200 && good; i++) {
          await good.authorization.refresh();
          if (good.authorization.status === 'valid') break;
          await new Promise((r) => setTimeout(r, 100));
        }
        res.end('not-the-key-authorization');
      });
      await new Promise<void>((resolve) => server?.listen(pebble.httpPort, '127.0.0.1', resolve));
    },
    async cleanup() {},
  };
  return {
    solver,
    contexts,
    close: () => new Promise((resolve) => (server ? server.close(() => resolve()) : resolve())),
  };
}

test('A11: a failed order deactivates only what is still pending; an authorization validated meanwhile stays valid', async () => {
  const split = splitSolver('bad.example.com');
  try {
    await assert.rejects(
      obtainCertificate(account, { names: ['good.example.com', 'bad.example.com'], solvers: [split.solver] }),
      (err: unknown) => err instanceof AuthorizationFailedError && /bad\.example\.com/.test(err.message),
    );
  } finally {
    await split.close();
  }
  const byName = new Map(split.contexts.map((c) => [c.identifier.value, c.authorization]));
  const good = byName.get('good.example.com');
  const bad = byName.get('bad.example.com');
  assert.ok(good && bad);
  await good.refresh();
  await bad.refresh();
  assert.equal(good.status, 'valid', 'the validated authorization was not thrown away');
  assert.equal(bad.status, 'invalid');
});
