import assert from 'node:assert/strict';
import { createHash, createPrivateKey, generateKeyPairSync, verify } from 'node:crypto';
import { test } from 'node:test';
import {
  ociSignedHeaders,
  rsaSha256,
  signingString,
  signOciRequest,
} from '../../../src/dns/providers/oraclecloud/signer.ts';

// OCI's request signatures follow draft-cavage-http-signatures-08, which OCI's documentation points to.
// The draft's Appendix C gives a test key and the signatures of its "Default Test" (date only) and "All
// Headers Test"; the signer's RSA-SHA256 step and signing-string layout must reproduce them exactly.
const CAVAGE_TEST_KEY = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'MIICXgIBAAKBgQDCFENGw33yGihy92pDjZQhl0C36rPJj+CvfSC8+q28hxA161QF',
  'NUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6Z4UMR7EOcpfdUE9Hf3m/hs+F',
  'UR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJwoYi+1hqp1fIekaxsyQIDAQAB',
  'AoGBAJR8ZkCUvx5kzv+utdl7T5MnordT1TvoXXJGXK7ZZ+UuvMNUCdN2QPc4sBiA',
  'QWvLw1cSKt5DsKZ8UETpYPy8pPYnnDEz2dDYiaew9+xEpubyeW2oH4Zx71wqBtOK',
  'kqwrXa/pzdpiucRRjk6vE6YY7EBBs/g7uanVpGibOVAEsqH1AkEA7DkjVH28WDUg',
  'f1nqvfn2Kj6CT7nIcE3jGJsZZ7zlZmBmHFDONMLUrXR/Zm3pR5m0tCmBqa5RK95u',
  '412jt1dPIwJBANJT3v8pnkth48bQo/fKel6uEYyboRtA5/uHuHkZ6FQF7OUkGogc',
  'mSJluOdc5t6hI1VsLn0QZEjQZMEOWr+wKSMCQQCC4kXJEsHAve77oP6HtG/IiEn7',
  'kpyUXRNvFsDE0czpJJBvL/aRFUJxuRK91jhjC68sA7NsKMGg5OXb5I5Jj36xAkEA',
  'gIT7aFOYBFwGgQAQkWNKLvySgKbAZRTeLBacpHMuQdl1DfdntvAyqpAZ0lY0RKmW',
  'G6aFKaqQfOXKCyWoUiVknQJAXrlgySFci/2ueKlIE1QqIiLSZ8V8OlpFLRnb1pzI',
  '7U1yQXnTAEFYM560yJlzUpOb1V4cScGd365tiSMvxLOvTA==',
  '-----END RSA PRIVATE KEY-----',
].join('\n');

test('oci signer: the draft-cavage test vectors (default and all-headers) reproduce', () => {
  const key = createPrivateKey(CAVAGE_TEST_KEY);
  assert.equal(
    rsaSha256(signingString(['date'], { date: 'Sun, 05 Jan 2014 21:31:40 GMT' }), key),
    'SjWJWbWN7i0wzBvtPl8rbASWz5xQW6mcJmn+ibttBqtifLN7Sazz6m79cNfwwb8DMJ5cou1s7uEGKKCs+FLEEaDV5lp7q25WqS+lavg7T8hc0GppauB6hbgEKTwblDHYGEtbGmtdHgVCk9SuS13F0hZ8FD0k/5OxEPXe5WozsbM=',
  );
  const all = signingString(
    ['(request-target)', 'host', 'date', 'content-type', 'digest', 'content-length'],
    {
      '(request-target)': 'post /foo?param=value&pet=dog',
      host: 'example.com',
      date: 'Sun, 05 Jan 2014 21:31:40 GMT',
      'content-type': 'application/json',
      digest: `SHA-256=${createHash('sha256').update('{"hello": "world"}').digest('base64')}`,
      'content-length': '18',
    },
  );
  assert.equal(
    all,
    '(request-target): post /foo?param=value&pet=dog\nhost: example.com\ndate: Sun, 05 Jan 2014 21:31:40 GMT\n' +
      'content-type: application/json\ndigest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=\ncontent-length: 18',
  );
  assert.equal(
    rsaSha256(all, key),
    'vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32NfpB2bEKBIvB1q52LaEUHFv120V01IL+TAD48XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE=',
  );
});

test('oci signer: GET signs date, (request-target), host; PATCH adds the body headers', () => {
  assert.deepEqual(ociSignedHeaders('get'), ['date', '(request-target)', 'host']);
  assert.deepEqual(ociSignedHeaders('DELETE'), ['date', '(request-target)', 'host']);
  assert.deepEqual(ociSignedHeaders('PATCH'), [
    'date',
    '(request-target)',
    'host',
    'content-length',
    'content-type',
    'x-content-sha256',
  ]);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyId = 'ocid1.tenancy.oc1..t/ocid1.user.oc1..u/20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34';
  const body =
    '{"items":[{"operation":"ADD","domain":"_acme-challenge.example.com","rtype":"TXT","rdata":"v","ttl":120}]}';
  const signed = signOciRequest(
    {
      method: 'PATCH',
      host: 'dns.us-phoenix-1.oraclecloud.com',
      path: '/20180115/zones/example.com/records/_acme-challenge.example.com?compartmentId=ocid1.compartment.oc1..c',
      body,
    },
    { keyId, privateKey },
    new Date('2014-01-05T21:31:40Z'),
  );
  assert.equal(signed.headers.date, 'Sun, 05 Jan 2014 21:31:40 GMT');
  assert.equal(signed.headers['content-length'], String(body.length));
  assert.equal(signed.headers['x-content-sha256'], createHash('sha256').update(body).digest('base64'));
  assert.equal(
    signed.signingString,
    [
      'date: Sun, 05 Jan 2014 21:31:40 GMT',
      '(request-target): patch /20180115/zones/example.com/records/_acme-challenge.example.com?compartmentId=ocid1.compartment.oc1..c',
      'host: dns.us-phoenix-1.oraclecloud.com',
      `content-length: ${body.length}`,
      'content-type: application/json',
      `x-content-sha256: ${signed.headers['x-content-sha256']}`,
    ].join('\n'),
  );
  const m =
    /^Signature version="1",keyId="([^"]+)",algorithm="rsa-sha256",headers="([^"]+)",signature="([^"]+)"$/.exec(
      signed.headers.authorization!,
    );
  assert.ok(m, signed.headers.authorization);
  assert.equal(m[1], keyId);
  assert.equal(m[2], 'date (request-target) host content-length content-type x-content-sha256');
  assert.ok(verify('sha256', Buffer.from(signed.signingString), publicKey, Buffer.from(m[3]!, 'base64')));
});
