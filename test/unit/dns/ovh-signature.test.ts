import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ovhSignature, ovhSignedHeaders } from '../../../src/dns/providers/ovh/signature.ts';
import { Secret } from '../../../src/internal/secret.ts';

// The worked example of OVHcloud's "First Steps with the API", section "Signing requests"
// (https://docs.ovh.com/gb/en/customer/first-steps-with-ovh-api/): AK 7kbG7Bk7S9Nt7ZSV, AS
// EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF, CK MtSwSrPpNjqfVSmJhLbPyr2i45lSwPU1, a GET on
// https://eu.api.ovh.com/1.0/domain/ at timestamp 1366560945 without a body: the pre-hash string
// "AS+CK+GET+https://eu.api.ovh.com/1.0/domain/++1366560945" and the signature below.
const keys = {
  applicationKey: '7kbG7Bk7S9Nt7ZSV',
  applicationSecret: new Secret('EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF'),
  consumerKey: new Secret('MtSwSrPpNjqfVSmJhLbPyr2i45lSwPU1'),
};
const documented = {
  method: 'GET',
  url: 'https://eu.api.ovh.com/1.0/domain/',
  body: '',
  timestamp: 1366560945,
};

test("ovhSignature: OVHcloud's documented example", () => {
  assert.equal(ovhSignature(keys, documented), '$1$6a77f43f2871db97a029f1d1d81c4dcd3c6f7265');
});

test('ovhSignedHeaders: the four X-Ovh-* headers of the documented request', () => {
  assert.deepEqual(ovhSignedHeaders(keys, documented), {
    'x-ovh-application': '7kbG7Bk7S9Nt7ZSV',
    'x-ovh-consumer': 'MtSwSrPpNjqfVSmJhLbPyr2i45lSwPU1',
    'x-ovh-timestamp': '1366560945',
    'x-ovh-signature': '$1$6a77f43f2871db97a029f1d1d81c4dcd3c6f7265',
  });
});

test('ovhSignature: method upper-cased; body, URL and timestamp each change the signature', () => {
  assert.equal(ovhSignature(keys, { ...documented, method: 'get' }), ovhSignature(keys, documented));
  const base = ovhSignature(keys, documented);
  assert.notEqual(ovhSignature(keys, { ...documented, body: '{}' }), base);
  assert.notEqual(ovhSignature(keys, { ...documented, url: 'https://eu.api.ovh.com/1.0/domain' }), base);
  assert.notEqual(ovhSignature(keys, { ...documented, timestamp: 1366560946 }), base);
});
