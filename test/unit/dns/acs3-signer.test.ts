import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { test } from 'node:test';
import {
  acsDate,
  buildCanonicalRequest,
  canonicalQueryString,
  canonicalUri,
  percentEncode,
  signAcs3,
} from '../../../src/dns/providers/alidns/acs3-signer.ts';
import { Secret } from '../../../src/internal/secret.ts';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

// The worked example with fixed values in Alibaba Cloud's "V3 request structure and signature"
// (https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature, section
// "Signature example"; the same values appear in the Chinese page 签名示例 and in Function Compute's
// "签名机制"): RunInstances on ecs.cn-shanghai.aliyuncs.com, AccessKey YourAccessKeyId/YourAccessKeySecret.
const documented = {
  request: {
    method: 'POST',
    host: 'ecs.cn-shanghai.aliyuncs.com',
    path: '/',
    query: { RegionId: 'cn-shanghai', ImageId: 'win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd' },
    headers: { 'x-acs-action': 'RunInstances', 'x-acs-version': '2014-05-26' },
    body: '',
  },
  creds: { accessKeyId: 'YourAccessKeyId', accessKeySecret: new Secret('YourAccessKeySecret') },
  opts: { date: new Date('2023-10-26T10:22:32Z'), nonce: '3156853299f313e23d1673dc12e1703d' },
  canonicalRequest: [
    'POST',
    '/',
    'ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai',
    'host:ecs.cn-shanghai.aliyuncs.com',
    'x-acs-action:RunInstances',
    `x-acs-content-sha256:${EMPTY_SHA256}`,
    'x-acs-date:2023-10-26T10:22:32Z',
    'x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d',
    'x-acs-version:2014-05-26',
    '',
    'host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version',
    EMPTY_SHA256,
  ].join('\n'),
  stringToSign: 'ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259',
  authorization:
    'ACS3-HMAC-SHA256 Credential=YourAccessKeyId,' +
    'SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,' +
    'Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0',
};

test('acs3: reproduces the documented example step by step and its published signature', () => {
  const signed = signAcs3(documented.request, documented.creds, documented.opts);
  assert.equal(signed.canonicalRequest, documented.canonicalRequest);
  assert.equal(signed.stringToSign, documented.stringToSign);
  assert.equal(signed.headers.authorization, documented.authorization);
  assert.equal(
    signed.queryString,
    'ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai',
  );
  assert.deepEqual(Object.keys(signed.headers).sort(), [
    'authorization',
    'host',
    'x-acs-action',
    'x-acs-content-sha256',
    'x-acs-date',
    'x-acs-signature-nonce',
    'x-acs-version',
  ]);
  assert.equal(signed.headers['x-acs-content-sha256'], EMPTY_SHA256);
});

test("acs3: percent-encoding follows RFC 3986 with the document's special cases", () => {
  assert.equal(percentEncode('AZaz09-_.~'), 'AZaz09-_.~');
  assert.equal(percentEncode('a b'), 'a%20b');
  assert.equal(percentEncode('*'), '%2A');
  assert.equal(percentEncode("!'()"), '%21%27%28%29');
  assert.equal(percentEncode('+/=&:'), '%2B%2F%3D%26%3A');
  assert.equal(percentEncode('中'), '%E4%B8%AD');
  assert.equal(canonicalUri('/'), '/');
  assert.equal(canonicalUri('/a b/c*d'), '/a%20b/c%2Ad');
});

test('acs3: canonical query sorts by parameter name in code-unit order, encodes, keeps empty values', () => {
  assert.equal(
    canonicalQueryString({ b: '2', A: 'x y', 'A-': '', a: '*' }),
    // "A" < "A-" < "a" < "b" (upper case sorts before lower case; no locale order).
    'A=x%20y&A-=&a=%2A&b=2',
  );
  assert.equal(canonicalQueryString({}), '');
});

test('acs3: x-acs-date is UTC without milliseconds', () => {
  assert.equal(acsDate(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678))), '2024-01-02T03:04:05Z');
});

test('acs3: content-type and every x-acs-* header are signed; others (user-agent) are not', () => {
  const { signedHeaders, canonicalRequest } = buildCanonicalRequest('post', '/', '', {
    'User-Agent': 'acmekit',
    'Content-Type': ' application/x-www-form-urlencoded ',
    host: 'alidns.aliyuncs.com',
    'X-Acs-Action': 'AddDomainRecord',
    'x-acs-content-sha256': 'abc',
  });
  assert.equal(signedHeaders, 'content-type;host;x-acs-action;x-acs-content-sha256');
  assert.equal(
    canonicalRequest,
    'POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:alidns.aliyuncs.com\n' +
      'x-acs-action:AddDomainRecord\nx-acs-content-sha256:abc\n\n' +
      'content-type;host;x-acs-action;x-acs-content-sha256\nabc',
  );
});

test('acs3: an Alidns AddDomainRecord with an STS token matches an independent recomputation', () => {
  const secret = 'sts-secret-7f2c';
  const token = 'CAIS-token-with+/=chars';
  const query = {
    DomainName: 'laeni.cn',
    RR: '_acme-challenge',
    Type: 'TXT',
    Value: 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0',
    TTL: '600',
    Line: 'default',
    Lang: 'en',
  };
  const signed = signAcs3(
    {
      method: 'POST',
      host: 'alidns.aliyuncs.com',
      query,
      headers: { 'x-acs-action': 'AddDomainRecord', 'x-acs-version': '2015-01-09' },
      body: '',
    },
    { accessKeyId: 'STS.NUgYrLnoC37', accessKeySecret: new Secret(secret), securityToken: new Secret(token) },
    { date: new Date('2025-03-01T08:00:00.250Z'), nonce: 'n-1' },
  );

  // Written out by hand from the documented algorithm, without the signer's helpers.
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  const canonical =
    'POST\n/\n' +
    'DomainName=laeni.cn&Lang=en&Line=default&RR=_acme-challenge&TTL=600&Type=TXT&' +
    'Value=LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0\n' +
    'host:alidns.aliyuncs.com\n' +
    'x-acs-action:AddDomainRecord\n' +
    `x-acs-content-sha256:${EMPTY_SHA256}\n` +
    'x-acs-date:2025-03-01T08:00:00Z\n' +
    `x-acs-security-token:${token}\n` +
    'x-acs-signature-nonce:n-1\n' +
    'x-acs-version:2015-01-09\n\n' +
    'host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version\n' +
    EMPTY_SHA256;
  const signature = createHmac('sha256', secret)
    .update(`ACS3-HMAC-SHA256\n${sha(canonical)}`)
    .digest('hex');

  assert.equal(signed.canonicalRequest, canonical);
  assert.equal(
    signed.headers.authorization,
    'ACS3-HMAC-SHA256 Credential=STS.NUgYrLnoC37,SignedHeaders=host;x-acs-action;x-acs-content-sha256;' +
      `x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version,Signature=${signature}`,
  );
  assert.equal(signed.headers['x-acs-security-token'], token);
  // The secret itself goes nowhere near the request.
  assert.ok(!JSON.stringify(signed).includes(secret));
});

test('acs3: a body is hashed into x-acs-content-sha256 and the canonical request', () => {
  const body = 'DomainName=laeni.cn&RR=%40';
  const signed = signAcs3(
    {
      method: 'POST',
      host: 'alidns.aliyuncs.com',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    },
    { accessKeyId: 'id', accessKeySecret: new Secret('s') },
    { date: new Date(0), nonce: 'n' },
  );
  const hash = createHash('sha256').update(body).digest('hex');
  assert.equal(signed.headers['x-acs-content-sha256'], hash);
  assert.ok(signed.canonicalRequest.endsWith(`\n${hash}`));
  assert.match(signed.signedHeaders, /^content-type;host;/);
});
