import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeLegoAccount,
  encodeLegoAccount,
  withLegoAccountStatus,
} from '../../../../src/storage/lego/account-json.ts';
import { corruptFile } from '../../../support/corrupt-file.ts';

const PATH = 'accounts/127.0.0.1_14000/admin@example.com/account.json';

/** account.json as lego v4 writes it against Pebble: json.MarshalIndent(Account, "", "\t") (cmd/account.go). */
const LEGO_V4_ACCOUNT = [
  '{',
  '\t"email": "admin@example.com",',
  '\t"registration": {',
  '\t\t"body": {',
  '\t\t\t"status": "valid",',
  '\t\t\t"contact": [',
  '\t\t\t\t"mailto:admin@example.com"',
  '\t\t\t]',
  '\t\t},',
  '\t\t"uri": "https://127.0.0.1:14000/my-account/1"',
  '\t}',
  '}',
].join('\n');

/** lego v5 (cmd/internal/storage/testdata/accounts/.../account.json): adds id and keyType. */
const LEGO_V5_ACCOUNT = `{
\t"id": "test@example.com",
\t"email": "account@example.com",
\t"keyType": "RSA4096",
\t"registration": {
\t\t"body": {
\t\t\t"status": "valid"
\t\t},
\t\t"uri": "https://example.org/acme/acct/123456"
\t}
}`;

describe('account.json', () => {
  it('reads what lego v4 writes', () => {
    assert.deepEqual(decodeLegoAccount(Buffer.from(LEGO_V4_ACCOUNT), PATH), {
      email: 'admin@example.com',
      accountUrl: 'https://127.0.0.1:14000/my-account/1',
      status: 'valid',
      contact: ['mailto:admin@example.com'],
      extra: {},
    });
  });

  it('writes byte for byte what lego v4 writes', () => {
    const text = encodeLegoAccount({
      email: 'admin@example.com',
      accountUrl: 'https://127.0.0.1:14000/my-account/1',
      accountObject: { status: 'valid', contact: ['mailto:admin@example.com'], orders: '' },
    });
    assert.equal(text, LEGO_V4_ACCOUNT);
  });

  it("keeps acme.Account's field order and omitempty rules", () => {
    const text = encodeLegoAccount({
      email: '',
      accountUrl: 'https://ca.example/acct/1?a=1&b=<2>',
      accountObject: {
        externalAccountBinding: { protected: 'p', payload: 'x', signature: 's' },
        orders: 'https://ca.example/acct/1/orders',
        termsOfServiceAgreed: true,
        contact: [],
        status: 'valid',
      },
    });
    const parsed = JSON.parse(text);
    assert.deepEqual(Object.keys(parsed), ['email', 'registration']);
    assert.deepEqual(Object.keys(parsed.registration.body), [
      'status',
      'termsOfServiceAgreed',
      'orders',
      'externalAccountBinding',
    ]);
    assert.equal(parsed.email, '');
    assert.ok(text.includes('\\u0026b=\\u003c2\\u003e'), 'Go escapes <, > and & in strings');
    assert.equal(decodeLegoAccount(text, PATH).accountUrl, 'https://ca.example/acct/1?a=1&b=<2>');
    assert.equal(decodeLegoAccount(text, PATH).email, '');
  });

  it('reads lego v5 files and keeps their extra fields on rewrite', () => {
    const v5 = decodeLegoAccount(LEGO_V5_ACCOUNT, PATH);
    assert.equal(v5.email, 'account@example.com');
    assert.equal(v5.accountUrl, 'https://example.org/acme/acct/123456');
    assert.deepEqual(v5.extra, { id: 'test@example.com', keyType: 'RSA4096' });
    const again = JSON.parse(
      encodeLegoAccount({
        email: v5.email,
        accountUrl: v5.accountUrl!,
        accountObject: { status: 'valid' },
        extra: v5.extra,
      }),
    );
    assert.equal(again.id, 'test@example.com');
    assert.equal(again.keyType, 'RSA4096');
  });

  it('reads a v5 snapshot whose registration is the flat account object with accountURL', () => {
    const flat = JSON.stringify({
      id: 'test@example.com',
      email: 'account@example.com',
      registration: {
        status: 'valid',
        contact: ['mailto:a@example.com'],
        accountURL: 'https://ca.example/a/9',
      },
    });
    const a = decodeLegoAccount(flat, PATH);
    assert.equal(a.accountUrl, 'https://ca.example/a/9');
    assert.deepEqual(a.contact, ['mailto:a@example.com']);
  });

  it('leaves accountUrl undefined when the registration is missing (lego then finds the account by key)', () => {
    assert.equal(
      decodeLegoAccount('{"email":"a@example.com","registration":null}', PATH).accountUrl,
      undefined,
    );
    assert.equal(decodeLegoAccount('{"email":"a@example.com"}', PATH).accountUrl, undefined);
  });

  it('writes no registration without an account URL, keeping email and the other top-level fields', () => {
    const text = encodeLegoAccount({
      email: 'a@example.com',
      accountUrl: undefined,
      accountObject: { status: 'valid' },
      extra: { id: 'a@example.com', keyType: 'EC256' },
    });
    assert.deepEqual(JSON.parse(text), { email: 'a@example.com', id: 'a@example.com', keyType: 'EC256' });
    assert.equal(decodeLegoAccount(text, PATH).accountUrl, undefined);
  });

  it('marks the status and changes nothing else, in the v4 form and the flat v5 form', () => {
    const v4 = withLegoAccountStatus(LEGO_V4_ACCOUNT, PATH, 'deactivated')!;
    assert.equal(v4, LEGO_V4_ACCOUNT.replace('"valid"', '"deactivated"'));
    const flat = JSON.stringify({
      id: 'x',
      email: 'a@example.com',
      registration: {
        status: 'valid',
        contact: ['mailto:a@example.com'],
        accountURL: 'https://ca.example/a/9',
      },
    });
    const marked = JSON.parse(withLegoAccountStatus(flat, PATH, 'deactivated')!);
    assert.deepEqual(marked, {
      id: 'x',
      email: 'a@example.com',
      registration: {
        status: 'deactivated',
        contact: ['mailto:a@example.com'],
        accountURL: 'https://ca.example/a/9',
      },
    });
    assert.equal(withLegoAccountStatus('{"email":"a@example.com"}', PATH, 'deactivated'), undefined);
    assert.throws(
      () => withLegoAccountStatus('{"email":1}', PATH, 'deactivated'),
      corruptFile(PATH, /email/),
    );
  });

  it('refuses corrupt files with CorruptFileError naming the file', () => {
    const cases: [string | Uint8Array, RegExp][] = [
      ['', /JSON/],
      [LEGO_V4_ACCOUNT.slice(0, 60), /JSON/],
      ['[1,2]', /object/],
      ['null', /object/],
      [new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), /JSON/],
      ['{"email": 42}', /email/],
      ['{"email":"a@b.c","registration":"x"}', /registration/],
      ['{"email":"a@b.c","registration":{"body":[],"uri":"https://ca.example/a"}}', /body/],
      ['{"email":"a@b.c","registration":{"body":{},"uri":"not a url"}}', /uri/],
      ['{"email":"a@b.c","registration":{"body":{},"uri":42}}', /uri/],
      ['{"email":"a@b.c","registration":{"body":{"status":1},"uri":"https://ca.example/a"}}', /status/],
      ['{"email":"a@b.c","registration":{"body":{"contact":"x"},"uri":"https://ca.example/a"}}', /contact/],
    ];
    for (const [input, pattern] of cases)
      assert.throws(() => decodeLegoAccount(input, PATH), corruptFile(PATH, pattern));
  });
});
