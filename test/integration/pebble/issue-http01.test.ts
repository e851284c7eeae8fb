import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { format, inspect } from 'node:util';
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
    assert.match(result.privateKey?.pem() ?? '', /BEGIN PRIVATE KEY/);
    assert.deepEqual(result.identifiers, [{ type: 'dns', value: 'test.example.com' }]);
  } finally {
    client.close();
  }
});

test('the certificate key in the result never prints itself: inspect, JSON, String and templates are redacted; pem() returns it', async () => {
  const client = new AcmeClient(pebble.directoryUrl, { caBundle: pebble.caBundle });
  try {
    const account = await client.createAccount({ acceptTos: true });
    const result = await obtainCertificate(account, {
      names: ['redacted.example.com'],
      solvers: [new Http01ListenerSolver({ port: pebble.httpPort, host: '127.0.0.1' })],
    });
    const printed = {
      inspect: inspect(result, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
      'console.log': format('%o', result),
      'console.log key': format('%s %O', result.privateKey, result.privateKey),
      JSON: JSON.stringify(result),
      'JSON key': JSON.stringify({ key: result.privateKey }),
      String: String(result.privateKey),
      template: `${result.privateKey}`,
      join: ['key:', result.privateKey].join(' '),
    };
    for (const [how, text] of Object.entries(printed)) {
      assert.ok(!text.includes('PRIVATE KEY'), `${how} printed the key: ${text.slice(0, 200)}`);
      assert.match(text, /redacted/, how);
    }
    assert.match(
      result.privateKey!.pem(),
      /^-----BEGIN PRIVATE KEY-----\n[\s\S]+-----END PRIVATE KEY-----\n$/,
    );
  } finally {
    client.close();
  }
});
