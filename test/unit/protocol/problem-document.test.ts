import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadServerResponseError } from '../../../src/errors/base.ts';
import { parseProblemDocument, safeJsonParse } from '../../../src/protocol/problem-document.ts';

const ACME = 'urn:ietf:params:acme:error:';

describe('parseProblemDocument', () => {
  it('reads a full problem document with subproblems', () => {
    const body = {
      type: `${ACME}rejectedIdentifier`,
      detail: 'Error creating new order',
      status: 400,
      instance: 'https://ca.example/p/1',
      subproblems: [
        {
          type: `${ACME}rejectedIdentifier`,
          detail: 'bad name',
          identifier: { type: 'dns', value: 'bad.example' },
        },
      ],
      extra: 'ignored',
    };
    assert.deepEqual(parseProblemDocument(body), {
      type: `${ACME}rejectedIdentifier`,
      detail: 'Error creating new order',
      status: 400,
      instance: 'https://ca.example/p/1',
      subproblems: [
        {
          type: `${ACME}rejectedIdentifier`,
          detail: 'bad name',
          identifier: { type: 'dns', value: 'bad.example' },
        },
      ],
    });
  });

  it('keeps a type that is not an ACME URN', () => {
    assert.deepEqual(parseProblemDocument({ type: 'https://ca.example/probs/x' }), {
      type: 'https://ca.example/probs/x',
    });
  });

  for (const body of [null, undefined, 'text', 42, true, [], [{ type: 'x' }]]) {
    it(`gives undefined for a body that is not an object: ${JSON.stringify(body)}`, () => {
      assert.equal(parseProblemDocument(body), undefined);
    });
  }

  it('treats a missing, non-string or malformed type as about:blank', () => {
    assert.deepEqual(parseProblemDocument({}), { type: 'about:blank' });
    assert.deepEqual(parseProblemDocument({ type: 7 }), { type: 'about:blank' });
    assert.deepEqual(parseProblemDocument({ type: '' }), { type: 'about:blank' });
    assert.deepEqual(parseProblemDocument({ type: 'urn:x\u001b[31m' }), { type: 'about:blank' });
  });

  it('ignores a non-string detail and instance, and an out-of-range status', () => {
    assert.deepEqual(
      parseProblemDocument({ type: 'about:blank', detail: { a: 1 }, instance: 5, status: '400' }),
      {
        type: 'about:blank',
      },
    );
    assert.deepEqual(parseProblemDocument({ status: 99 }), { type: 'about:blank' });
    assert.deepEqual(parseProblemDocument({ status: 400.5 }), { type: 'about:blank' });
  });

  it('keeps a detail with escape sequences as is (AcmeProblemError sanitises it for display)', () => {
    assert.equal(parseProblemDocument({ detail: 'a\u001b[2Jb' })?.detail, 'a\u001b[2Jb');
  });

  it('ignores subproblems that are not an array', () => {
    assert.deepEqual(parseProblemDocument({ type: 'about:blank', subproblems: { 0: { type: 'x' } } }), {
      type: 'about:blank',
    });
  });

  it('drops subproblem entries that are not objects', () => {
    const parsed = parseProblemDocument({ subproblems: [1, null, 'x', { detail: 'kept' }] });
    assert.deepEqual(parsed?.subproblems, [{ type: 'about:blank', detail: 'kept' }]);
  });

  it('drops identifiers that are not { type: string, value: string }, keeping the subproblem', () => {
    const parsed = parseProblemDocument({
      subproblems: [
        { detail: 'a', identifier: { type: 'dns' } },
        { detail: 'b', identifier: { type: 'dns', value: 5 } },
        { detail: 'c', identifier: 'bad.example' },
        { detail: 'd', identifier: { type: 'dns', value: 'x\u001b[31m' } },
        { detail: 'e', identifier: { type: 'dns', value: 'ok.example' } },
      ],
    });
    assert.deepEqual(
      parsed?.subproblems?.map((s) => s.identifier),
      [undefined, undefined, undefined, undefined, { type: 'dns', value: 'ok.example' }],
    );
  });

  it('ignores subproblems nested inside subproblems', () => {
    const parsed = parseProblemDocument({
      subproblems: [{ detail: 'a', subproblems: [{ detail: 'deep' }] }],
    });
    assert.deepEqual(parsed?.subproblems, [{ type: 'about:blank', detail: 'a' }]);
  });

  it('ignores __proto__ and constructor keys and inherited properties', () => {
    const hostile = JSON.parse(
      '{"__proto__": {"type": "urn:evil", "detail": "evil"}, "constructor": {"x": 1}}',
    );
    const parsed = parseProblemDocument(hostile);
    assert.deepEqual(parsed, { type: 'about:blank' });
    assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
    assert.deepEqual(parseProblemDocument(Object.create({ type: 'urn:inherited' })), { type: 'about:blank' });
  });
});

describe('safeJsonParse', () => {
  it('parses valid JSON', () => {
    assert.deepEqual(safeJsonParse('{"status":"valid","n":[1,2]}'), { status: 'valid', n: [1, 2] });
  });

  it('ignores a leading byte order mark', () => {
    assert.deepEqual(safeJsonParse('\uFEFF{"a":1}'), { a: 1 });
  });

  for (const text of ['', '<html><body>502 Bad Gateway</body></html>', '{"a":', "{'a':1}", 'undefined']) {
    it(`throws BadServerResponseError for invalid JSON ${JSON.stringify(text.slice(0, 20))}`, () => {
      assert.throws(
        () => safeJsonParse(text),
        (err: unknown) => {
          assert.ok(err instanceof BadServerResponseError);
          assert.ok(err.cause instanceof SyntaxError);
          assert.doesNotMatch(err.message, /html/i);
          return true;
        },
      );
    });
  }

  it('throws BadServerResponseError for input over the size limit, counting UTF-8 bytes', () => {
    assert.throws(() => safeJsonParse(`"${'x'.repeat(100)}"`, 50), BadServerResponseError);
    assert.throws(() => safeJsonParse(`"${'é'.repeat(30)}"`, 50), BadServerResponseError);
    assert.deepEqual(safeJsonParse(`"${'é'.repeat(20)}"`, 50), 'é'.repeat(20));
  });

  it('rejects a large body by default before parsing it', () => {
    assert.throws(() => safeJsonParse(`[${'1,'.repeat(600_000)}1]`), /larger than 1048576 bytes/);
  });

  it('handles deep nesting without crashing', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    try {
      safeJsonParse(deep);
    } catch (err) {
      assert.ok(err instanceof BadServerResponseError);
    }
  });

  it('drops __proto__ keys so that Object.assign and spreading cannot change a prototype', () => {
    const parsed = safeJsonParse(
      '{"__proto__":{"polluted":true},"a":{"__proto__":{"polluted":true}}}',
    ) as Record<string, unknown>;
    assert.equal(Object.hasOwn(parsed, '__proto__'), false);
    assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
    const assigned = Object.assign({}, parsed, parsed.a) as Record<string, unknown>;
    assert.equal(assigned.polluted, undefined);
    assert.equal(({ ...parsed } as Record<string, unknown>).polluted, undefined);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(parsed, { a: {} });
  });

  it('drops __proto__ keys spelled with unicode escapes', () => {
    const parsed = safeJsonParse('{"\\u005f_proto__":{"polluted":true},"b":"\\u00e9"}') as Record<
      string,
      unknown
    >;
    assert.equal(Object.hasOwn(parsed, '__proto__'), false);
    assert.deepEqual(parsed, { b: 'é' });
  });

  it('drops constructor keys', () => {
    assert.deepEqual(safeJsonParse('{"constructor":{"prototype":{"polluted":true}},"ok":1}'), { ok: 1 });
  });
});
