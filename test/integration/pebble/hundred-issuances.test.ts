import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AcmeClient, Http01ListenerSolver, obtainCertificate } from '../../../src/index.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';

let pebble: PebbleServer;
before(async () => {
  pebble = await startPebble(); // Pebble's default nonce rejection (5 %) stays on
});
after(() => pebble?.stop());

test('A1, A2: 100 issuances in a row with Pebble rejecting nonces: all 100 succeed', async () => {
  let badNonces = 0;
  const noop = () => {};
  const logger = {
    debug: (_obj: object, msg?: string) => {
      if (msg?.startsWith('badNonce')) badNonces++;
    },
    info: noop,
    warn: noop,
    error: noop,
  };
  const client = new AcmeClient(pebble.directoryUrl, { caBundle: pebble.caBundle, logger });
  try {
    const account = await client.createAccount({ acceptTos: true });
    const solver = new Http01ListenerSolver({ port: pebble.httpPort, host: '127.0.0.1' });
    let ok = 0;
    for (let i = 0; i < 100; i++) {
      const result = await obtainCertificate(account, {
        names: [`n${i}.hundred.example`],
        solvers: [solver],
      });
      if (result.chain.includes('BEGIN CERTIFICATE')) ok++;
    }
    assert.equal(ok, 100);
    assert.ok(badNonces > 0, 'Pebble rejected some nonces on the way, and each was retried');
  } finally {
    client.close();
  }
});
