import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nfsnAuthHeader, nfsnSalt } from '../../../src/dns/providers/nearlyfreespeech-auth.ts';
import { Secret } from '../../../src/internal/secret.ts';

// The worked example of NearlyFreeSpeech.NET's API introduction
// (https://members.nearlyfreespeech.net/wiki/API/Introduction): user "testuser", API key
// "p3kxmRKf9dk3l6ls", GET /site/example/getInfo with no body at timestamp 1012121212 and salt
// "dkwo28Sile4jdXkw".
test('nearlyfreespeech: the documented example signs to the documented header', () => {
  assert.equal(
    nfsnAuthHeader({
      login: 'testuser',
      apiKey: new Secret('p3kxmRKf9dk3l6ls'),
      requestUri: '/site/example/getInfo',
      body: '',
      timestamp: 1012121212,
      salt: 'dkwo28Sile4jdXkw',
    }),
    'testuser;1012121212;dkwo28Sile4jdXkw;0fa8932e122d56e2f6d1550f9aab39c4aef8bfc4',
  );
});

test('nearlyfreespeech: the body is part of the signature; the salt is 16 letters and digits', () => {
  const base = {
    login: 'testuser',
    apiKey: new Secret('p3kxmRKf9dk3l6ls'),
    requestUri: '/dns/example.com/addRR',
    timestamp: 1012121212,
    salt: 'dkwo28Sile4jdXkw',
  };
  assert.notEqual(nfsnAuthHeader({ ...base, body: 'name=a' }), nfsnAuthHeader({ ...base, body: 'name=b' }));
  const salts = new Set(Array.from({ length: 20 }, () => nfsnSalt()));
  assert.equal(salts.size, 20);
  for (const s of salts) assert.match(s, /^[A-Za-z0-9]{16}$/);
});
