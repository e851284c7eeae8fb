import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkChallengeTypes,
  identifierLabel,
  identifiersEqual,
  isWildcard,
  normalizeIdentifiers,
} from '../../../src/acme/identifiers.ts';
import type { Identifier } from '../../../src/crypto/identifier.ts';
import { InvalidInputError } from '../../../src/errors/base.ts';

const dns = (value: string): Identifier => ({ type: 'dns', value });
const ip = (value: string): Identifier => ({ type: 'ip', value });

/** The value as messages show it: JSON-quoted, invisible format characters escaped. */
const shown = (value: string) =>
  JSON.stringify(value).replace(/\p{Cf}/gu, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);

/** Asserts an InvalidInputError whose message quotes the bad value and matches `reason`. */
function rejects(input: string | Identifier, reason: RegExp): void {
  const value = shown(typeof input === 'string' ? input : input.value);
  assert.throws(
    () => normalizeIdentifiers([input]),
    (err: unknown) => {
      assert.ok(err instanceof InvalidInputError, `expected InvalidInputError, got ${String(err)}`);
      assert.ok(err.message.includes(value), `message should name ${value}: ${err.message}`);
      assert.match(err.message, reason);
      return true;
    },
  );
}

describe('normalizeIdentifiers: bad names from the user are refused before the network', () => {
  const cases: [string, string | Identifier, RegExp][] = [
    ['an empty name', '', /empty/],
    ['a name of spaces only', '   ', /empty/],
    ['the root "."', '.', /root/],
    ['two dots in a row', 'a..b.example', /empty label/],
    ['a leading dot', '.example.com', /empty label/],
    ['two trailing dots (only one is stripped)', 'example.com..', /empty label/],
    ['a label starting with "-"', '-lead.example', /starts or ends with "-"/],
    ['a label ending with "-"', 'trail-.example', /starts or ends with "-"/],
    ['a 64-octet label', `${'a'.repeat(64)}.example`, /64 octets.*at most 63/],
    [
      'a 254-octet name',
      `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`,
      /254.*253/,
    ],
    ['an underscore label', '_acme.x', /"_" is not allowed/],
    ['a second wildcard label', '*.*.x', /whole leftmost label/],
    ['a wildcard in the middle', 'foo.*.x', /whole leftmost label/],
    ['a partial wildcard label', '*x.example', /whole leftmost label/],
    ['"*." alone', '*.', /whole leftmost label/],
    ['"*" alone', '*', /whole leftmost label/],
    ['a wildcard over a single label', '*.com', /at least two labels/],
    ['invalid punycode xn--a', 'xn--a', /not valid punycode/],
    ['invalid punycode inside a name', 'foo.xn--a.example', /"xn--a" is not valid punycode/],
    ['"xn--" alone', 'xn--', /punycode|starts or ends/],
    ['punycode that does not round-trip', 'xn--abc.example', /not valid punycode|internationalised/],
    ['a reserved "--" label', 'ab--cd.example', /reserved for IDNA/],
    ['an IPv4 address typed as dns', dns('192.0.2.1'), /type ip, RFC 8738/],
    ['an IPv6 address typed as dns', dns('2001:db8::1'), /type ip, RFC 8738/],
    ['a name typed as ip', ip('example.com'), /not an IPv4 or IPv6/],
    ['an IPv6 zone id', 'fe80::1%eth0', /zone id/],
    ['an IPv6 zone id in brackets', '[fe80::1%eth0]', /zone id/],
    ['brackets around IPv4', '[192.0.2.1]', /only for IPv6/],
    ['brackets around a name', '[example.com]', /not a valid IPv6/],
    ['an IPv6 address with too many groups', '1:2:3:4:5:6:7:8:9', /not a valid IPv6/],
    ['an IPv4 address in a short form', '127.1', /last label is numeric/],
    ['an IPv4 address with leading zeros', '010.0.0.1', /last label is numeric/],
    ['a numeric top-level domain', 'example.123', /last label is numeric/],
    ['a comma inside one entry', 'example.com,www', /one name per entry/],
    ['a semicolon', 'a;b.example', /";"/],
    ['a shell substitution', '$(id).example', /"\$"/],
    ['a backtick', '`id`.example', /"`"/],
    ['a newline inside', 'a\nb.example', /whitespace|control/],
    ['a NUL byte', 'a\u0000b.example', /control character/],
    ['a slash', 'example.com/x', /not a URL or a path/],
    ['a path traversal', '../etc/passwd', /not a URL or a path|empty label/],
    ['a URL', 'https://example.com', /not a URL or a path/],
    ['a space inside', 'exa mple.com', /whitespace/],
    ['a soft hyphen (invisible)', 'exa\u00admple.com', /invisible or control/],
    ['a right-to-left override', 'exa\u202emple.com', /invisible or control/],
  ];
  for (const [what, input, reason] of cases) {
    it(`rejects ${what}`, () => rejects(input, reason));
  }

  it('rejects an empty list', () => {
    assert.throws(() => normalizeIdentifiers([]), InvalidInputError);
  });

  it('rejects 101 distinct names by default, naming the count', () => {
    const names = Array.from({ length: 101 }, (_, i) => `n${i}.example`);
    assert.throws(
      () => normalizeIdentifiers(names),
      (err: unknown) => {
        assert.ok(err instanceof InvalidInputError);
        assert.match(err.message, /101 names.*at most 100/);
        return true;
      },
    );
  });

  it('accepts exactly 100 names, and duplicates do not count towards the limit', () => {
    const names = Array.from({ length: 100 }, (_, i) => `n${i}.example`);
    assert.equal(normalizeIdentifiers([...names, 'N0.example']).length, 100);
  });

  it('honours a custom maxNames', () => {
    assert.throws(() => normalizeIdentifiers(['a.example', 'b.example'], { maxNames: 1 }), InvalidInputError);
  });

  it('rejects an identifier of unknown type, naming its value', () => {
    const bad = { type: 'email', value: 'a@b.example' } as unknown as Identifier;
    assert.throws(() => normalizeIdentifiers([bad]), /"a@b\.example".*"email"/);
  });

  it('shows control characters escaped in the message', () => {
    assert.throws(
      () => normalizeIdentifiers(['a\u0000b.example']),
      (err: unknown) => {
        assert.ok(err instanceof InvalidInputError);
        assert.ok(!err.message.includes('\u0000'));
        assert.equal(err.value, 'a\u0000b.example');
        return true;
      },
    );
  });
});

describe('normalizeIdentifiers: good names are normalised', () => {
  const cases: [string, string | Identifier, Identifier][] = [
    ['lowercases', 'UPPER.Example', dns('upper.example')],
    ['converts IDN to punycode', 'bücher.example', dns('xn--bcher-kva.example')],
    ['keeps valid punycode', 'xn--bcher-kva.example', dns('xn--bcher-kva.example')],
    ['lowercases punycode', 'XN--BCHER-KVA.example', dns('xn--bcher-kva.example')],
    ['strips one trailing dot', 'example.com.', dns('example.com')],
    ['trims spaces', '  example.com \t', dns('example.com')],
    ['keeps a wildcard', '*.Example.com', dns('*.example.com')],
    ['converts IDN under a wildcard', '*.bücher.example', dns('*.xn--bcher-kva.example')],
    ['allows a single label', 'localhost', dns('localhost')],
    ['allows digits in labels', '1password.example', dns('1password.example')],
    ['allows a 63-octet label', `${'a'.repeat(63)}.example`, dns(`${'a'.repeat(63)}.example`)],
    ['detects IPv4', '192.0.2.1', ip('192.0.2.1')],
    ['canonicalises IPv6', '2001:0DB8:0:0:0:0:0:1', ip('2001:db8::1')],
    ['strips IPv6 brackets', '[::1]', ip('::1')],
    ['compresses the longest zero run', '2001:db8:0:0:1:0:0:0', ip('2001:db8:0:0:1::')],
    ['does not compress a single zero group', '2001:db8:0:1:1:1:1:1', ip('2001:db8:0:1:1:1:1:1')],
    ['writes the unspecified address as ::', '0:0:0:0:0:0:0:0', ip('::')],
    [
      'writes IPv4-mapped IPv6 in hex (RFC 5952 §4, as RFC 8738 §3 asks)',
      '::FFFF:c000:0201',
      ip('::ffff:c000:201'),
    ],
    ['converts IPv4-mapped dotted form to hex', '::ffff:192.0.2.1', ip('::ffff:c000:201')],
    ['accepts an explicit ip identifier', ip(' 2001:DB8::1 '), ip('2001:db8::1')],
    ['accepts an explicit dns identifier', dns('Example.COM'), dns('example.com')],
  ];
  for (const [what, input, expected] of cases) {
    it(`${what}: ${JSON.stringify(input)}`, () => {
      assert.deepEqual(normalizeIdentifiers([input]), [expected]);
    });
  }

  it('drops duplicates that differ only by case or trailing dot, keeping the first order', () => {
    assert.deepEqual(
      normalizeIdentifiers(['b.example', 'A.example', 'B.EXAMPLE', 'a.example.', '[::1]', '::1']),
      [dns('b.example'), dns('a.example'), ip('::1')],
    );
  });

  it('keeps a wildcard and its base name as two identifiers', () => {
    assert.deepEqual(normalizeIdentifiers(['example.com', '*.example.com']), [
      dns('example.com'),
      dns('*.example.com'),
    ]);
  });
});

describe('identifier helpers', () => {
  it('isWildcard is true only for a leading "*." dns name', () => {
    assert.equal(isWildcard(dns('*.example.com')), true);
    assert.equal(isWildcard(dns('example.com')), false);
    assert.equal(isWildcard(ip('::1')), false);
  });

  it('identifierLabel shows the Unicode form next to punycode', () => {
    assert.equal(identifierLabel(dns('xn--bcher-kva.example')), 'xn--bcher-kva.example (bücher.example)');
    assert.equal(identifierLabel(dns('example.com')), 'example.com');
    assert.equal(identifierLabel(ip('2001:db8::1')), '2001:db8::1');
  });

  it('identifiersEqual compares as sets, ignoring order and dns case', () => {
    assert.equal(identifiersEqual([dns('a.example'), ip('::1')], [ip('::1'), dns('A.example')]), true);
    assert.equal(identifiersEqual([dns('a.example')], [dns('a.example'), dns('b.example')]), false);
    assert.equal(identifiersEqual([dns('1.2.3.4')], [ip('1.2.3.4')]), false);
    assert.equal(identifiersEqual([], []), true);
  });
});

describe('checkChallengeTypes', () => {
  it('refuses a wildcard without dns-01, naming it and RFC 8555 §7.1.3', () => {
    assert.throws(
      () => checkChallengeTypes([dns('example.com'), dns('*.example.com')], ['http-01', 'tls-alpn-01']),
      (err: unknown) => {
        assert.ok(err instanceof InvalidInputError);
        assert.match(err.message, /wildcard \*\.example\.com needs dns-01.*RFC 8555 §7\.1\.3/);
        return true;
      },
    );
  });

  it('accepts a wildcard with dns-01', () => {
    checkChallengeTypes([dns('*.example.com')], ['dns-01']);
  });

  it('refuses an IP address with only dns-01, naming it and RFC 8738', () => {
    assert.throws(
      () => checkChallengeTypes([ip('192.0.2.1')], ['dns-01']),
      (err: unknown) => {
        assert.ok(err instanceof InvalidInputError);
        assert.match(err.message, /192\.0\.2\.1 needs http-01 or tls-alpn-01.*RFC 8738/);
        return true;
      },
    );
  });

  it('accepts an IP address with http-01 or tls-alpn-01', () => {
    checkChallengeTypes([ip('192.0.2.1')], ['http-01']);
    checkChallengeTypes([ip('::1')], ['tls-alpn-01']);
  });

  it('refuses a plain name when no challenge type is offered', () => {
    assert.throws(() => checkChallengeTypes([dns('example.com')], []), /example\.com needs.*offered: none/);
  });
});
