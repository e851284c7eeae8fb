import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AcmeClient, Http01ListenerSolver, obtainCertificate } from '../../../src/index.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';

let pebble: PebbleServer;
before(async () => {
  pebble = await startPebble();
});
after(() => pebble?.stop());

test('issues a certificate for one name with http-01 answered by our own listener', async () => {
  const client = new AcmeClient(pebble.directoryUrl, { caBundle: pebble.caBundle });
  try {
    const account = await client.createAccount({ contact: 'admin@example.com', acceptTos: true });
    const result = await obtainCertificate(account, {
      names: ['test.example.com'],
      solvers: [new Http01ListenerSolver({ port: pebble.httpPort, host: '127.0.0.1' })],
    });
    assert.match(result.chain, /BEGIN CERTIFICATE/);
    assert.match(result.privateKey ?? '', /BEGIN PRIVATE KEY/);
    assert.deepEqual(result.identifiers, [{ type: 'dns', value: 'test.example.com' }]);
  } finally {
    client.close();
  }
});
