import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLinkHeader } from '../../../src/protocol/link-header.ts';

const BASE = 'https://ca.example/acme/cert/123';

/** The result has a null prototype; compare it as a plain object. */
const parse = (values: string | string[] | undefined, base = BASE) => ({ ...parseLinkHeader(values, base) });

describe('parseLinkHeader', () => {
  it('maps one link to its rel', () => {
    assert.deepEqual(parse('<https://ca.example/directory>;rel="index"'), {
      index: ['https://ca.example/directory'],
    });
  });

  it('reads several links in one field, separated by commas', () => {
    assert.deepEqual(
      parse('<https://ca.example/a/1>; rel="alternate", <https://ca.example/a/2>; rel="alternate"'),
      { alternate: ['https://ca.example/a/1', 'https://ca.example/a/2'] },
    );
  });

  it('reads several Link fields', () => {
    assert.deepEqual(
      parse(['<https://ca.example/up>;rel=up', '<https://ca.example/tos>;rel="terms-of-service"']),
      {
        up: ['https://ca.example/up'],
        'terms-of-service': ['https://ca.example/tos'],
      },
    );
  });

  it('keeps commas and semicolons inside <...> as part of the URL', () => {
    assert.deepEqual(
      parse('<https://ca.example/x?a=1,2;b=3>; rel="alternate", <https://ca.example/y>; rel=up'),
      {
        alternate: ['https://ca.example/x?a=1,2;b=3'],
        up: ['https://ca.example/y'],
      },
    );
  });

  it('accepts unquoted rel and a rel with spaces around "="', () => {
    assert.deepEqual(parse('<https://ca.example/d> ; rel = index'), { index: ['https://ca.example/d'] });
  });

  it('gives one URL to each type of a multi-valued rel', () => {
    assert.deepEqual(parse('<https://ca.example/d>; rel="index  up"'), {
      index: ['https://ca.example/d'],
      up: ['https://ca.example/d'],
    });
  });

  it('lowercases registered relation types', () => {
    assert.deepEqual(parse('<https://ca.example/d>; REL="Index"'), { index: ['https://ca.example/d'] });
  });

  it('resolves relative URLs against the base URL', () => {
    assert.deepEqual(parse('</acme/cert/123/1>;rel="alternate", <chain2>;rel="alternate"'), {
      alternate: ['https://ca.example/acme/cert/123/1', 'https://ca.example/acme/cert/chain2'],
    });
  });

  it('ignores other parameters, including quoted ones with commas and semicolons', () => {
    assert.deepEqual(parse('<https://ca.example/d>; title="a, b; c"; rel="index"; type=text/html'), {
      index: ['https://ca.example/d'],
    });
  });

  it('uses only the first rel parameter (RFC 8288 §3.3)', () => {
    assert.deepEqual(parse('<https://ca.example/d>; rel=index; rel=up'), { index: ['https://ca.example/d'] });
  });

  it('handles escaped quotes inside a quoted rel', () => {
    assert.deepEqual(parse('<https://ca.example/d>; title="say \\"hi\\""; rel="up"'), {
      up: ['https://ca.example/d'],
    });
  });

  it('drops duplicate URLs under one rel', () => {
    assert.deepEqual(parse(['<https://ca.example/d>;rel=up', '<https://ca.example/d>;rel=up']), {
      up: ['https://ca.example/d'],
    });
  });

  it('gives an empty result for an absent or empty header', () => {
    assert.deepEqual(parse(undefined), {});
    assert.deepEqual(parse(''), {});
    assert.deepEqual(parse([]), {});
    assert.deepEqual(parse(' , ,'), {});
  });

  it('skips malformed links and keeps the good ones', () => {
    assert.deepEqual(
      parse(
        'https://no-brackets; rel=up, <https://ca.example/ok>; rel=up, <https://ca.example/norel>, <https://x>; rel="unclosed',
      ),
      { up: ['https://ca.example/ok'] },
    );
    assert.deepEqual(parse('<https://ca.example/unterminated; rel=up'), {});
    assert.deepEqual(parse('<https://ca.example/a> garbage; rel=up, <https://ca.example/b>; rel=up'), {
      up: ['https://ca.example/b'],
    });
  });

  it('skips URLs that cannot be resolved', () => {
    assert.deepEqual(parse('<http://[bad>; rel=up, </ok>; rel=up', 'not a url'), {});
    assert.deepEqual(parse('<https://ca.example/abs>; rel=up', 'not a url'), {
      up: ['https://ca.example/abs'],
    });
  });

  it('treats a hostile rel such as __proto__ as a plain key', () => {
    const links = parseLinkHeader('<https://ca.example/p>; rel="__proto__ constructor"', BASE);
    assert.equal(Object.getPrototypeOf(links), null);
    assert.deepEqual(Object.entries(links), [
      ['__proto__', ['https://ca.example/p']],
      ['constructor', ['https://ca.example/p']],
    ]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
