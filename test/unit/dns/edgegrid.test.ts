import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentHash, edgeGridTimestamp, signEdgeGrid } from '../../../src/dns/providers/edgedns/edgegrid.ts';
import { Secret } from '../../../src/internal/secret.ts';

// Akamai's EdgeGrid test data (the credentials, timestamp and nonce of the test suites Akamai ships with
// its EdgeGrid clients, and the signatures they publish for them).
const creds = {
  clientToken: 'akab-client-token-xxx-xxxxxxxxxxxxxxxx',
  accessToken: new Secret('akab-access-token-xxx-xxxxxxxxxxxxxxxx'),
  clientSecret: new Secret('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx='),
  maxBody: 2048,
};
const TIMESTAMP = '20140321T19:34:21+0000';
const NONCE = 'nonce-xx-xxxx-xxxx-xxxx-xxxxxxxxxxxx';
const HOST = 'akaa-baseurl-xxxxxxxxxxx-xxxxxxxxxxxxx.luna.akamaiapis.net';

const signature = (method: string, path: string, body = '') =>
  /signature=(.+)$/.exec(
    signEdgeGrid({ method, scheme: 'https', host: HOST, path, body }, creds, TIMESTAMP, NONCE).authorization,
  )?.[1];

test('edgegrid: reproduces Akamai test data for GET, GET with a query, POST and PUT', () => {
  assert.equal(signature('GET', '/'), 'tL+y4hxyHxgWVD30X3pWnGKHcPzmrIF+LThiAOhMxYU=');
  assert.equal(signature('GET', '/testapi/v1/t1?p1=1&p2=2'), 'hKDH1UlnQySSHjvIcZpDMbQHihTQ0XyVAKZaApabdeA=');
  assert.equal(
    signature('GET', '/testapi/v1/configs/111;222;333?from=12345&limit=200000'),
    'pmQF7Is2+O4r/mMojPR4yeF58BrempNNoBX5/DT0Fxs=',
  );
  assert.equal(
    signature('POST', '/testapi/v1/t3', 'datadatadatadatadatadatadatadata'),
    'hXm4iCxtpN22m4cbZb4lVLW5rhX8Ca82vCFqXzSTPe4=',
  );
  // A body longer than max-body: only its first max-body bytes are hashed.
  assert.equal(
    signature('POST', '/testapi/v1/t3', 'd'.repeat(2048)),
    '6Q6PiTipLae6n4GsSIDTCJ54bEbHUBp+4MUXrbQCBoY=',
  );
  assert.equal(
    signature('POST', '/testapi/v1/t3', 'd'.repeat(2049)),
    '6Q6PiTipLae6n4GsSIDTCJ54bEbHUBp+4MUXrbQCBoY=',
  );
  assert.equal(signature('POST', '/testapi/v1/t6'), '1gEDxeQGD5GovIkJJGcBaKnZ+VaPtrc4qBUHixjsPCQ=');
  // Only POST bodies are hashed.
  assert.equal(
    signature('PUT', '/testapi/v1/t6', 'PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP'),
    'GNBWEYSEWOLtu+7dD52da2C39aX/Jchpon3K/AmBqBU=',
  );
});

test('edgegrid: the header carries both tokens, the timestamp and the nonce; the secret never', () => {
  const { authorization, dataToSign } = signEdgeGrid(
    { method: 'get', scheme: 'HTTPS', host: HOST.toUpperCase(), path: '/', body: '' },
    creds,
    TIMESTAMP,
    NONCE,
  );
  assert.ok(
    authorization.startsWith(
      `EG1-HMAC-SHA256 client_token=${creds.clientToken};access_token=akab-access-token-xxx-xxxxxxxxxxxxxxxx;timestamp=${TIMESTAMP};nonce=${NONCE};signature=`,
    ),
  );
  assert.equal(dataToSign.split('\t').slice(0, 6).join('|'), `GET|https|${HOST}|/||`);
  assert.ok(!authorization.includes(creds.clientSecret.reveal()));
  assert.equal(edgeGridTimestamp(new Date('2014-03-21T19:34:21.999Z')), TIMESTAMP);
  assert.equal(contentHash('PUT', 'x'), '');
});
