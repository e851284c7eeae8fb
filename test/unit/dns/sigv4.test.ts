import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  amzDate,
  canonicalQuery,
  canonicalUri,
  deriveSigningKey,
  type SignableRequest,
  sha256Hex,
  signRequest,
} from '../../../src/dns/providers/route53/sigv4.ts';
import { Secret } from '../../../src/internal/secret.ts';

// The example keys AWS uses throughout its documentation.
const SECRET = new Secret('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY');
const SUITE = {
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET },
  region: 'us-east-1',
  service: 'service',
  date: new Date('2015-08-30T12:36:00Z'),
};
const HOST = 'example.amazonaws.com';
const scope = 'AKIDEXAMPLE/20150830/us-east-1/service/aws4_request';

describe('sigv4: signing key (AWS General Reference, "Examples of how to derive a signing key for Signature Version 4")', () => {
  test('20120215 / us-east-1 / iam', () => {
    assert.equal(
      deriveSigningKey(SECRET, '20120215', 'us-east-1', 'iam').toString('hex'),
      'f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d',
    );
  });
  test('20150830 / us-east-1 / iam (the key of the signed-request example below)', () => {
    assert.equal(
      deriveSigningKey(SECRET, '20150830', 'us-east-1', 'iam').toString('hex'),
      'c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9',
    );
  });
});

describe('sigv4: AWS General Reference signing example (IAM ListUsers, GET, 20150830T123600Z)', () => {
  test('canonical request hash, signature and Authorization header', () => {
    const signed = signRequest(
      {
        method: 'GET',
        host: 'iam.amazonaws.com',
        path: '/',
        query: [
          ['Version', '2010-05-08'],
          ['Action', 'ListUsers'],
        ],
        headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
      },
      { ...SUITE, service: 'iam' },
    );
    assert.equal(
      signed.canonicalRequest,
      'GET\n/\nAction=ListUsers&Version=2010-05-08\ncontent-type:application/x-www-form-urlencoded; charset=utf-8\n' +
        'host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n' +
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    assert.equal(
      sha256Hex(signed.canonicalRequest),
      'f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59',
    );
    assert.equal(
      signed.stringToSign,
      'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\nf536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59',
    );
    assert.equal(
      signed.authorization,
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, ' +
        'Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
    );
    assert.equal(signed.headers['x-amz-date'], '20150830T123600Z');
    assert.equal(signed.headers.host, 'iam.amazonaws.com');
  });
});

describe('sigv4: Amazon S3 API Reference, "Signature Calculations for the Authorization Header", example GET Object', () => {
  test('x-amz-content-sha256 is added and signed; signature matches the documented one', () => {
    // S3's examples use a variant of the example secret with "/" where the General Reference has "+".
    const signed = signRequest(
      {
        method: 'GET',
        host: 'examplebucket.s3.amazonaws.com',
        path: '/test.txt',
        headers: { Range: 'bytes=0-9' },
      },
      {
        credentials: {
          accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
          secretAccessKey: new Secret('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'),
        },
        region: 'us-east-1',
        service: 's3',
        date: new Date('2013-05-24T00:00:00Z'),
        contentSha256Header: true,
      },
    );
    assert.equal(
      sha256Hex(signed.canonicalRequest),
      '7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972',
    );
    assert.equal(signed.signedHeaders, 'host;range;x-amz-content-sha256;x-amz-date');
    assert.equal(
      signed.headers['x-amz-content-sha256'],
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    assert.equal(signed.signature, 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
  });
});

/**
 * AWS Signature Version 4 Test Suite (AWS General Reference, "Signature Version 4 test suite",
 * aws-sig-v4-test-suite, 2015-08-30): each case's request as given in its .req file and the
 * signature from its .authz file, credentials AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY,
 * region us-east-1, service "service".
 */
const suite: {
  name: string;
  req: SignableRequest;
  signedHeaders: string;
  signature: string;
  creqHash?: string;
}[] = [
  {
    name: 'get-vanilla',
    req: { method: 'GET', host: HOST, path: '/' },
    signedHeaders: 'host;x-amz-date',
    signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    creqHash: 'bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63',
  },
  {
    name: 'post-vanilla',
    req: { method: 'POST', host: HOST, path: '/' },
    signedHeaders: 'host;x-amz-date',
    signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
    creqHash: '553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87',
  },
  {
    name: 'post-x-www-form-urlencoded',
    req: {
      method: 'POST',
      host: HOST,
      path: '/',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'Param1=value1',
    },
    signedHeaders: 'content-type;host;x-amz-date',
    signature: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
    creqHash: '42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281',
  },
  {
    name: 'post-x-www-form-urlencoded-parameters',
    req: {
      method: 'POST',
      host: HOST,
      path: '/',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf8' },
      body: 'Param1=value1',
    },
    signedHeaders: 'content-type;host;x-amz-date',
    signature: '1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe',
  },
  {
    name: 'get-vanilla-query-order-key (repeated key: sorted by value)',
    req: {
      method: 'GET',
      host: HOST,
      path: '/',
      query: [
        ['Param1', 'value2'],
        ['Param1', 'Value1'],
      ],
    },
    signedHeaders: 'host;x-amz-date',
    signature: 'eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1',
  },
  {
    name: 'get-vanilla-query-order-key-case',
    req: {
      method: 'GET',
      host: HOST,
      path: '/',
      query: [
        ['Param2', 'value2'],
        ['Param1', 'value1'],
      ],
    },
    signedHeaders: 'host;x-amz-date',
    signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
  },
  {
    name: 'get-vanilla-query-unreserved',
    req: {
      method: 'GET',
      host: HOST,
      path: '/',
      query: [
        [
          '-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
          '-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
        ],
      ],
    },
    signedHeaders: 'host;x-amz-date',
    signature: '9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197',
  },
  {
    name: 'get-vanilla-utf8-query',
    req: { method: 'GET', host: HOST, path: '/', query: [['ሴ', 'bar']] },
    signedHeaders: 'host;x-amz-date',
    signature: '2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04',
  },
  {
    name: 'get-utf8',
    req: { method: 'GET', host: HOST, path: '/ሴ' },
    signedHeaders: 'host;x-amz-date',
    signature: '8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85',
  },
  {
    name: 'get-unreserved',
    req: {
      method: 'GET',
      host: HOST,
      path: '/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
    },
    signedHeaders: 'host;x-amz-date',
    signature: '07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f',
  },
  {
    name: 'get-header-key-duplicate',
    req: { method: 'GET', host: HOST, path: '/', headers: { 'My-Header1': ['value2', 'value2', 'value1'] } },
    signedHeaders: 'host;my-header1;x-amz-date',
    signature: 'c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea',
  },
  {
    name: 'get-header-value-order',
    req: {
      method: 'GET',
      host: HOST,
      path: '/',
      headers: { 'My-Header1': ['value4', 'value1', 'value3', 'value2'] },
    },
    signedHeaders: 'host;my-header1;x-amz-date',
    signature: '08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01',
  },
  {
    name: 'get-header-value-trim',
    req: {
      method: 'GET',
      host: HOST,
      path: '/',
      headers: { 'My-Header1': ' value1', 'My-Header2': ' "a   b   c"' },
    },
    signedHeaders: 'host;my-header1;my-header2;x-amz-date',
    signature: 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736',
  },
  {
    name: 'post-header-value-case',
    req: { method: 'POST', host: HOST, path: '/', headers: { 'My-Header1': 'VALUE1' } },
    signedHeaders: 'host;my-header1;x-amz-date',
    signature: 'cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d',
  },
  {
    name: 'normalize-path/get-slashes',
    req: { method: 'GET', host: HOST, path: '//example//' },
    signedHeaders: 'host;x-amz-date',
    signature: '9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84',
  },
  {
    name: 'normalize-path/get-relative-relative',
    req: { method: 'GET', host: HOST, path: '/example1/example2/../..' },
    signedHeaders: 'host;x-amz-date',
    signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  },
  {
    name: 'normalize-path/get-slash-pointless-dot',
    req: { method: 'GET', host: HOST, path: '/./example' },
    signedHeaders: 'host;x-amz-date',
    signature: 'ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5',
  },
  {
    name: 'normalize-path/get-space',
    req: { method: 'GET', host: HOST, path: '/example space/' },
    signedHeaders: 'host;x-amz-date',
    signature: '652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741',
  },
];

describe('sigv4: AWS Signature Version 4 Test Suite', () => {
  for (const c of suite) {
    test(c.name, () => {
      const signed = signRequest(c.req, SUITE);
      if (c.creqHash) assert.equal(sha256Hex(signed.canonicalRequest), c.creqHash);
      assert.equal(
        signed.authorization,
        `AWS4-HMAC-SHA256 Credential=${scope}, SignedHeaders=${c.signedHeaders}, Signature=${c.signature}`,
      );
    });
  }

  test('post-sts-token/post-sts-header-before: the session token is sent and signed', () => {
    const token =
      'AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==';
    const signed = signRequest(
      { method: 'POST', host: HOST, path: '/' },
      { ...SUITE, credentials: { ...SUITE.credentials, sessionToken: new Secret(token) } },
    );
    assert.equal(signed.signedHeaders, 'host;x-amz-date;x-amz-security-token');
    assert.equal(signed.signature, '85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead');
    assert.equal(signed.headers['x-amz-security-token'], token);
  });
});

describe('sigv4: pieces', () => {
  test('amzDate drops separators and milliseconds', () => {
    assert.equal(amzDate(new Date('2024-02-29T23:59:58.765Z')), '20240229T235958Z');
  });

  test('canonical query encodes everything but unreserved characters, upper-case hex, spaces as %20', () => {
    assert.equal(
      canonicalQuery([
        ['name', '_acme-challenge.example.com.'],
        ['b', "a b+c/d*e!'()"],
      ]),
      'b=a%20b%2Bc%2Fd%2Ae%21%27%28%29&name=_acme-challenge.example.com.',
    );
  });

  test('canonical URI keeps a trailing slash and encodes an already-encoded segment again', () => {
    assert.equal(canonicalUri('/2013-04-01/hostedzone/Z1/rrset/'), '/2013-04-01/hostedzone/Z1/rrset/');
    assert.equal(canonicalUri('/a%20b'), '/a%2520b');
  });

  test('the secret never shows through the credentials or the result', () => {
    const signed = signRequest({ method: 'GET', host: HOST, path: '/' }, SUITE);
    const text = JSON.stringify(signed) + JSON.stringify(SUITE.credentials);
    assert.ok(!text.includes(SECRET.reveal()));
  });
});
