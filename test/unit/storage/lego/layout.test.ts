import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { domainToASCII } from 'node:url';
import { InvalidInputError } from '../../../../src/errors/base.ts';
import {
  accountKeys,
  archiveKey,
  certificateKeys,
  NO_EMAIL_ACCOUNT_ID,
  sanitizeDomainForFile,
  serverFolderName,
} from '../../../../src/storage/lego/layout.ts';

const PEBBLE = 'https://127.0.0.1:14000/dir';

describe('serverFolderName (lego cmd/accounts_storage.go: URL host with ":" → "_")', () => {
  it('keeps the port of a Pebble-like URL', () => {
    assert.equal(serverFolderName(PEBBLE), '127.0.0.1_14000');
    assert.equal(serverFolderName('https://localhost:14000/dir'), 'localhost_14000');
  });

  it('uses the bare host for the public CAs', () => {
    assert.equal(
      serverFolderName('https://acme-v02.api.letsencrypt.org/directory'),
      'acme-v02.api.letsencrypt.org',
    );
    assert.equal(
      serverFolderName('https://acme-staging-v02.api.letsencrypt.org/directory'),
      'acme-staging-v02.api.letsencrypt.org',
    );
  });

  it('takes the host verbatim as Go url.Parse does: case, default port, IPv6 brackets; drops userinfo', () => {
    assert.equal(serverFolderName('https://CA.Example:443/dir'), 'CA.Example_443');
    assert.equal(serverFolderName('https://[::1]:14000/dir'), '[__1]_14000');
    assert.equal(serverFolderName('https://user:pw@ca.example:8443/dir?x=1#y'), 'ca.example_8443');
    assert.equal(serverFolderName('https://ca.example?x=1'), 'ca.example');
  });

  it('refuses what is not an absolute URL with a host', () => {
    for (const bad of ['', 'not a url', 'localhost:14000/dir', 'https:///dir', 'file:///etc/passwd']) {
      assert.throws(() => serverFolderName(bad), InvalidInputError, bad);
    }
  });
});

describe('accountKeys', () => {
  it('builds lego v4 keys: accounts/<server>/<email>/{account.json,keys/<email>.key}, and v5 key beside account.json', () => {
    assert.deepEqual(accountKeys(PEBBLE, 'admin@example.com'), {
      accountId: 'admin@example.com',
      dir: 'accounts/127.0.0.1_14000/admin@example.com',
      accountJson: 'accounts/127.0.0.1_14000/admin@example.com/account.json',
      privateKey: 'accounts/127.0.0.1_14000/admin@example.com/keys/admin@example.com.key',
      privateKeyV5: 'accounts/127.0.0.1_14000/admin@example.com/admin@example.com.key',
    });
  });

  it('keeps the email as written (lego does not fold case)', () => {
    assert.equal(
      accountKeys(PEBBLE, 'Admin@Example.com').accountJson,
      'accounts/127.0.0.1_14000/Admin@Example.com/account.json',
    );
  });

  it('uses lego ≥ 4.30 placeholder without an email', () => {
    assert.equal(NO_EMAIL_ACCOUNT_ID, 'noemail@example.com');
    assert.deepEqual(accountKeys('https://acme-v02.api.letsencrypt.org/directory', ''), {
      accountId: 'noemail@example.com',
      dir: 'accounts/acme-v02.api.letsencrypt.org/noemail@example.com',
      accountJson: 'accounts/acme-v02.api.letsencrypt.org/noemail@example.com/account.json',
      privateKey: 'accounts/acme-v02.api.letsencrypt.org/noemail@example.com/keys/noemail@example.com.key',
      privateKeyV5: 'accounts/acme-v02.api.letsencrypt.org/noemail@example.com/noemail@example.com.key',
    });
  });

  it('refuses an email that would escape its folder', () => {
    for (const bad of ['a/b@example.com', '..', '.', 'a\\b@example.com', 'a\0b']) {
      assert.throws(() => accountKeys(PEBBLE, bad), InvalidInputError, bad);
    }
  });
});

describe('certificateKeys (lego cmd/certs_storage.go)', () => {
  it('names every file after the main domain', () => {
    assert.deepEqual(certificateKeys('example.com'), {
      name: 'example.com',
      crt: 'certificates/example.com.crt',
      key: 'certificates/example.com.key',
      issuer: 'certificates/example.com.issuer.crt',
      json: 'certificates/example.com.json',
      pem: 'certificates/example.com.pem',
      pfx: 'certificates/example.com.pfx',
      csr: 'certificates/example.com.csr',
    });
  });

  it('names a wildcard certificate "_.<domain>"', () => {
    const k = certificateKeys('*.example.com');
    assert.equal(k.crt, 'certificates/_.example.com.crt');
    assert.equal(k.issuer, 'certificates/_.example.com.issuer.crt');
    assert.equal(k.json, 'certificates/_.example.com.json');
  });
});

describe('sanitizeDomainForFile', () => {
  it('turns "*" into "_" and ":" into "-"', () => {
    assert.equal(sanitizeDomainForFile('*.example.com'), '_.example.com');
    assert.equal(sanitizeDomainForFile('2001:db8::1'), '2001-db8--1');
    assert.equal(sanitizeDomainForFile('192.0.2.1'), '192.0.2.1');
    assert.equal(sanitizeDomainForFile('example.com.'), 'example.com.');
  });

  it('leaves ASCII labels, including punycode, as they are', () => {
    assert.equal(sanitizeDomainForFile('xn--bcher-kva.example'), 'xn--bcher-kva.example');
    assert.equal(sanitizeDomainForFile('*.xn--bcher-kva.example'), '_.xn--bcher-kva.example');
  });

  it('encodes IDN labels as punycode, like WHATWG URL for lower-case names', () => {
    const names = ['bücher.example', 'münchen.de', '例え.テスト', 'пример.рф', 'ドメイン名例.jp', 'a.b.ñ.c'];
    for (const name of names) assert.equal(sanitizeDomainForFile(name), domainToASCII(name), name);
    assert.equal(sanitizeDomainForFile('*.bücher.example'), '_.xn--bcher-kva.example');
  });

  it('keeps case in IDN labels, as Go idna.ToASCII (Punycode profile) does; RFC 3492 §7.1 samples', () => {
    assert.equal(sanitizeDomainForFile('Bücher.example'), 'xn--Bcher-kva.example');
    assert.equal(sanitizeDomainForFile('3年B組金八先生'), 'xn--3B-ww4c5e180e575a65lsy2b');
    assert.equal(
      sanitizeDomainForFile('安室奈美恵-with-SUPER-MONKEYS'),
      'xn---with-SUPER-MONKEYS-pc58ag80a8qai00g7n9n',
    );
    assert.equal(sanitizeDomainForFile('ليهمابتكلموشعربي؟'), 'xn--egbpdaj6bu4bxfgehfvwxn');
    assert.equal(sanitizeDomainForFile('Pročprostěnemluvíčesky'), 'xn--Proprostnemluvesky-uyb24dma41a');
  });

  it('refuses names that cannot be a file name', () => {
    for (const bad of ['', '.', '..', 'a/b', 'a\\b', 'a\0b']) {
      assert.throws(() => sanitizeDomainForFile(bad), InvalidInputError, JSON.stringify(bad));
    }
  });
});

describe('archiveKey (lego MoveToArchive)', () => {
  it('prefixes the file name with the unix time in seconds', () => {
    const at = new Date(1_700_000_000_987);
    assert.equal(archiveKey('certificates/_.example.com.crt', at), 'archives/1700000000._.example.com.crt');
    assert.equal(
      archiveKey('certificates/example.com.issuer.crt', at),
      'archives/1700000000.example.com.issuer.crt',
    );
  });
});
