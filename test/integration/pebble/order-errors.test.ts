import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildCsr } from '../../../src/crypto/csr.ts';
import { generateKeyType } from '../../../src/crypto/keys.ts';
import {
  type Account,
  AcmeClient,
  BadCsrError,
  Http01ListenerSolver,
  InvalidInputError,
  OrderNotReadyError,
  obtainCertificate,
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

const ids = [{ type: 'dns' as const, value: 'order-errors.example.com' }];

test('A12: finalizing a pending order is OrderNotReadyError from the CA; the order stays usable', async () => {
  const order = await account.newOrder({ identifiers: ['order-errors.example.com'] });
  const csr = await buildCsr({ key: await generateKeyType('ec256'), identifiers: ids });
  await assert.rejects(order.finalize(csr), OrderNotReadyError);
  await order.refresh();
  assert.equal(order.status, 'pending');
});

test('A12: the account key as certificate key is refused before any order, given as a key or in a CSR', async () => {
  const solver = new Http01ListenerSolver({ port: pebble.httpPort, host: '127.0.0.1' });
  await assert.rejects(
    obtainCertificate(account, { names: ['order-errors.example.com'], key: account.key, solvers: [solver] }),
    (err: unknown) => err instanceof InvalidInputError && /is the account key/.test(err.message),
  );
  const csr = await buildCsr({ key: account.key, identifiers: ids });
  await assert.rejects(
    obtainCertificate(account, { csr, solvers: [solver] }),
    (err: unknown) => err instanceof InvalidInputError && /in the CSR is the account key/.test(err.message),
  );
  assert.equal(solver.listening, false, 'no solver was started');
});

test('A12: a CSR with the account key sent anyway is BadCsrError from the CA', async () => {
  const order = await account.newOrder({ identifiers: ['order-errors.example.com'] });
  const [authz] = await order.authorizations();
  const solver = new Http01ListenerSolver({ port: pebble.httpPort, host: '127.0.0.1' });
  const challenge = authz!.challenge('http-01')!;
  const ctx = { identifier: authz!.identifier, authorization: authz!, challenge };
  await solver.present(ctx as never, AbortSignal.timeout(30_000));
  try {
    await challenge.respond();
    await order.waitWhile(['pending']);
    assert.equal(order.status, 'ready');
    const csr = await buildCsr({ key: account.key, identifiers: ids });
    await assert.rejects(order.finalize(csr), BadCsrError);
  } finally {
    await solver.cleanup(ctx as never, AbortSignal.timeout(5_000));
  }
});
