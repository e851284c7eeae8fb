import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signTc3, tc3Date } from '../../../src/dns/providers/tencentcloud/tc3-signer.ts';
import { Secret } from '../../../src/internal/secret.ts';

// The worked example of TencentCloud API 3.0 "Signature v3" (the common page every product repeats,
// e.g. https://www.tencentcloud.com/document/product/267/37447): SecretId
// AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE, SecretKey Gu5t9xGARNpq86cd98joQYCN3EXAMPLE, a POST of
// DescribeInstances to cvm.tencentcloudapi.com at timestamp 1551113065 with the body below. The page
// gives the payload hash, the canonical request, its hash, the string to sign and the signature.
const creds = {
  secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE',
  secretKey: new Secret('Gu5t9xGARNpq86cd98joQYCN3EXAMPLE'),
};
const body = '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}';
const signed = signTc3(creds, {
  host: 'cvm.tencentcloudapi.com',
  service: 'cvm',
  body,
  timestamp: 1551113065,
});

test('signTc3: the canonical request of the documented example', () => {
  assert.equal(
    signed.canonicalRequest,
    [
      'POST',
      '/',
      '',
      'content-type:application/json; charset=utf-8',
      'host:cvm.tencentcloudapi.com',
      '',
      'content-type;host',
      '35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064',
    ].join('\n'),
  );
});

test('signTc3: the string to sign, signature and Authorization of the documented example', () => {
  assert.equal(
    signed.stringToSign,
    'TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031',
  );
  assert.equal(signed.signature, '72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168');
  assert.equal(
    signed.authorization,
    'TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, ' +
      'SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168',
  );
});

test('tc3Date: the UTC date, not the local one (1551113065 is 2019-02-26 00:44 in UTC+8)', () => {
  assert.equal(tc3Date(1551113065), '2019-02-25');
  assert.equal(tc3Date(1551139199), '2019-02-25');
  assert.equal(tc3Date(1551139200), '2019-02-26');
});
