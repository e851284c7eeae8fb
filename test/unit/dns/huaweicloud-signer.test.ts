import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  canonicalQuery,
  canonicalUri,
  sdkDate,
  signHuaweiRequest,
} from '../../../src/dns/providers/huaweicloud/signer.ts';
import { Secret } from '../../../src/internal/secret.ts';

// The worked example of Huawei Cloud's "API Request Signing Guide" (Constructing a Standard Request,
// Creating a To-Be-Signed String, Calculating the Signature): the VPC list request of 2019-11-15 with the
// documented AK, SK and the published hash and signature.
test('huaweicloud signer: reproduces the documented example step by step', () => {
  const signed = signHuaweiRequest(
    {
      method: 'GET',
      host: 'service.region.example.com',
      path: '/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0',
      headers: { 'Content-Type': 'application/json' },
      body: '',
    },
    {
      accessKeyId: 'QTWAOYTTINDUT2QVKYUC',
      secretAccessKey: new Secret('MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc'),
    },
    new Date('2019-11-15T03:36:55Z'),
  );
  assert.equal(
    signed.canonicalRequest,
    [
      'GET',
      '/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/',
      'limit=2&marker=13551d6b-755d-4757-b956-536f674975c0',
      'content-type:application/json',
      'host:service.region.example.com',
      'x-sdk-date:20191115T033655Z',
      '',
      'content-type;host;x-sdk-date',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    ].join('\n'),
  );
  assert.equal(
    signed.stringToSign,
    'SDK-HMAC-SHA256\n20191115T033655Z\nb25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a',
  );
  assert.equal(
    signed.headers.authorization,
    'SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, ' +
      'Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe',
  );
  assert.equal(signed.headers['x-sdk-date'], '20191115T033655Z');
  assert.equal(signed.headers.host, undefined, 'the transport sets Host itself');
});

test('huaweicloud signer: URI always ends with a slash; query encoded per RFC 3986 and sorted', () => {
  assert.equal(canonicalUri('/v2/zones'), '/v2/zones/');
  assert.equal(canonicalUri('/'), '/');
  assert.equal(canonicalUri('/a b/c*'), '/a%20b/c%2A/');
  assert.equal(canonicalQuery(''), '');
  assert.equal(
    canonicalQuery('type=TXT&name=_acme-challenge.example.com.&a=x%20y*'),
    'a=x%20y%2A&name=_acme-challenge.example.com.&type=TXT',
  );
  assert.equal(canonicalQuery('b=&a'), 'a=&b=');
  assert.equal(sdkDate(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678))), '20240102T030405Z');
});

test('huaweicloud signer: the body hash and extra headers (x-project-id) take part', () => {
  const creds = { accessKeyId: 'AK', secretAccessKey: new Secret('SK') };
  const at = new Date('2024-05-01T00:00:00Z');
  const req = {
    method: 'post',
    host: 'dns.ap-southeast-1.myhuaweicloud.com',
    path: '/v2/zones/z1/recordsets',
    headers: { 'content-type': 'application/json', 'X-Project-Id': 'p1' },
    body: '{"name":"a."}',
  };
  const a = signHuaweiRequest(req, creds, at);
  assert.match(a.headers.authorization!, /SignedHeaders=content-type;host;x-project-id;x-sdk-date,/);
  assert.ok(a.canonicalRequest.startsWith('POST\n/v2/zones/z1/recordsets/\n\n'));
  assert.ok(a.canonicalRequest.includes('x-project-id:p1\n'));
  const b = signHuaweiRequest({ ...req, body: '{"name":"b."}' }, creds, at);
  assert.notEqual(a.headers.authorization, b.headers.authorization);
});
