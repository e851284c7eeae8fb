import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { inspect } from 'node:util';
import { AcmeClient, InvalidInputError, MalformedError, UnauthorizedError } from '../../../src/index.ts';
import { type PebbleServer, startPebble } from '../../support/pebble.ts';

let pebble: PebbleServer;
let client: AcmeClient;
before(async () => {
  pebble = await startPebble({ eab: true });
  client = new AcmeClient(pebble.directoryUrl, { caBundle: pebble.caBundle });
});
after(async () => {
  client?.close();
  await pebble?.stop();
});

test('A13: EAB: a CA that requires it is refused without EAB before any account request', async () => {
  assert.equal((await client.directory()).meta?.externalAccountRequired, true);
  await assert.rejects(client.createAccount({ acceptTos: true }), (err: unknown) => {
    assert.ok(err instanceof InvalidInputError);
    assert.match(err.message, /external account binding/);
    return true;
  });
});

test('A13: EAB: an account binds with the HS256 key the CA issued', async () => {
  const [kid, hmacKey] = Object.entries(pebble.eabKeys)[0]!;
  const account = await client.createAccount({ acceptTos: true, externalAccountBinding: { kid, hmacKey } });
  assert.equal(account.status, 'valid');
});

test('A13: EAB: a wrong HMAC key is rejected by the CA, and the error never contains the key', async () => {
  const [kid] = Object.keys(pebble.eabKeys);
  const wrong = Buffer.alloc(32, 7).toString('base64url');
  const err = await client
    .createAccount({ acceptTos: true, externalAccountBinding: { kid: kid!, hmacKey: wrong } })
    .catch((e: unknown) => e);
  assert.ok(err instanceof UnauthorizedError || err instanceof MalformedError, String(err));
  assert.ok(!inspect(err).includes(wrong));
});

test('EAB: malformed credentials are refused before any request, without echoing the key', async () => {
  const bad = [
    { kid: '', hmacKey: Buffer.alloc(32).toString('base64url') },
    { kid: 'kid-1', hmacKey: 'not base64url!!' },
    { kid: 'kid-1', hmacKey: 'c2hvcnQ' },
  ];
  for (const eab of bad) {
    const err = await client
      .createAccount({ acceptTos: true, externalAccountBinding: eab })
      .catch((e: unknown) => e);
    assert.ok(err instanceof InvalidInputError, String(err));
    if (eab.hmacKey.length > 3) assert.ok(!String((err as Error).message).includes(eab.hmacKey));
  }
});
