import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  type DnsMessage,
  decodeMessage,
  encodeMessage,
  type MessageInput,
  nameToLabels,
  Opcode,
  RecordClass,
  RecordType,
  rcodeName,
  tsigErrorName,
} from '../../../src/dns/wire/message.ts';
import { BadServerResponseError, InvalidInputError } from '../../../src/errors/base.ts';

const run = promisify(execFile);
const long = `${'0123456789'.repeat(30)}!`; // 301 bytes: two character-strings on the wire

function sample(): MessageInput {
  return {
    id: 0xbeef,
    qr: true,
    aa: true,
    rd: true,
    ra: false,
    rcode: 0,
    questions: [{ name: 'WWW.Example.Test', type: RecordType.TXT, class: RecordClass.IN }],
    answers: [
      { name: 'www.example.test.', type: RecordType.TXT, ttl: 60, data: { strings: ['hello', 'world'] } },
      { name: 'www.example.test.', type: RecordType.TXT, ttl: 60, data: { strings: [long] } },
      { name: 'www.example.test.', type: RecordType.A, ttl: 30, data: '192.0.2.1' },
      { name: 'www.example.test.', type: RecordType.AAAA, ttl: 30, data: '2001:DB8:0:0:0:0:0:1' },
    ],
    authority: [
      { name: 'example.test.', type: RecordType.NS, ttl: 300, data: 'ns1.example.test.' },
      {
        name: 'example.test.',
        type: RecordType.SOA,
        ttl: 300,
        data: {
          mname: 'ns1.example.test.',
          rname: 'hostmaster.example.test.',
          serial: 2024010101,
          refresh: 3600,
          retry: 600,
          expire: 4_294_967_295,
          minimum: 60,
        },
      },
    ],
    additional: [
      { name: 'alias.example.test.', type: RecordType.CNAME, ttl: 5, data: 'www.example.test.' },
      { name: 'example.test.', type: 15, ttl: 5, data: Uint8Array.from([0, 10, 0]) }, // MX kept raw
    ],
    edns: { udpPayloadSize: 1232, options: [{ code: 10, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) }] },
  };
}

describe('DNS message encoding and decoding', () => {
  test('a message with every supported record type survives a round trip', () => {
    const m = decodeMessage(encodeMessage(sample()));
    assert.equal(m.id, 0xbeef);
    assert.deepEqual(
      [m.qr, m.aa, m.tc, m.rd, m.ra, m.opcode, m.rcode],
      [true, true, false, true, false, 0, 0],
    );
    assert.deepEqual(m.questions, [{ name: 'www.example.test.', type: 16, class: 1 }]);
    const [txt1, txt2, a, aaaa] = m.answers;
    assert.equal(txt1?.typeName, 'TXT');
    assert.deepEqual(txt1?.data, { strings: ['hello', 'world'], text: 'helloworld' });
    assert.equal(txt2?.typeName, 'TXT');
    if (txt2?.typeName !== 'TXT') return;
    assert.deepEqual(
      txt2.data.strings.map((s) => s.length),
      [255, 46],
    );
    assert.equal(txt2.data.text, long);
    assert.deepEqual(a, {
      name: 'www.example.test.',
      type: 1,
      class: 1,
      ttl: 30,
      typeName: 'A',
      data: '192.0.2.1',
    });
    assert.equal(aaaa?.data, '2001:db8::1');
    assert.deepEqual(m.authority[0], {
      name: 'example.test.',
      type: 2,
      class: 1,
      ttl: 300,
      typeName: 'NS',
      data: 'ns1.example.test.',
    });
    assert.equal(m.authority[1]?.typeName, 'SOA');
    assert.deepEqual(m.authority[1]?.data, sample().authority![1]!.data);
    assert.equal(m.additional[0]?.data, 'www.example.test.');
    assert.equal(m.additional[1]?.typeName, 'TYPE15');
    assert.deepEqual(m.additional[1]?.data, Uint8Array.from([0, 10, 0]));
    assert.equal(m.edns?.udpPayloadSize, 1232);
    assert.deepEqual(m.edns?.options, [{ code: 10, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) }]);
    assert.equal(m.tsig, undefined);
  });

  test('names are compressed on the wire', () => {
    const bytes = encodeMessage(sample());
    const text = Buffer.from(bytes).toString('latin1').toLowerCase();
    assert.equal(text.split('example').length - 1, 1, 'the suffix "example.test." is written once');
    // The first answer's owner name is a pointer to the question name at offset 12.
    assert.ok(Buffer.from(bytes).includes(Buffer.from([0xc0, 0x0c])));
  });

  test('extended RCODEs travel in the OPT record', () => {
    const m = decodeMessage(encodeMessage({ id: 1, qr: true, rcode: 23, edns: { udpPayloadSize: 512 } }));
    assert.equal(m.rcode, 23);
    assert.equal(rcodeName(m.rcode), 'BADCOOKIE');
    assert.equal(m.edns?.extendedRcode, 1);
    assert.throws(() => encodeMessage({ id: 1, rcode: 16 }), InvalidInputError);
  });

  test('RCODE and TSIG error names', () => {
    const names = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(rcodeName);
    assert.deepEqual(names, [
      'NOERROR',
      'FORMERR',
      'SERVFAIL',
      'NXDOMAIN',
      'NOTIMP',
      'REFUSED',
      'YXDOMAIN',
      'YXRRSET',
      'NXRRSET',
      'NOTAUTH',
      'NOTZONE',
    ]);
    assert.equal(rcodeName(16), 'BADVERS');
    assert.deepEqual([16, 17, 18].map(tsigErrorName), ['BADSIG', 'BADKEY', 'BADTIME']);
    assert.equal(rcodeName(99), 'RCODE99');
  });

  test('UPDATE: class NONE and empty RDATA (delete an RRset) round-trip', () => {
    const bytes = encodeMessage({
      id: 7,
      opcode: Opcode.UPDATE,
      questions: [{ name: 'example.test.', type: RecordType.SOA, class: RecordClass.IN }],
      authority: [
        {
          name: 'a.example.test.',
          type: RecordType.TXT,
          class: RecordClass.NONE,
          ttl: 0,
          data: { strings: ['v'] },
        },
        { name: 'b.example.test.', type: RecordType.TXT, class: RecordClass.ANY },
        { name: 'c.example.test.', type: RecordType.A, class: RecordClass.ANY },
      ],
    });
    const m = decodeMessage(bytes);
    assert.equal(m.opcode, Opcode.UPDATE);
    assert.deepEqual(
      m.authority.map((rr) => [rr.name, rr.class, rr.typeName, rr.data]),
      [
        ['a.example.test.', 254, 'TXT', { strings: ['v'], text: 'v' }],
        ['b.example.test.', 255, 'TXT', { strings: [], text: '' }],
        ['c.example.test.', 255, 'A', ''],
      ],
    );
  });

  test('names: case folded, escapes kept, limits enforced', () => {
    const m = decodeMessage(
      encodeMessage({ id: 1, questions: [{ name: 'A\\.B.Ex\\097mple.', type: 1, class: 1 }] }),
    );
    assert.equal(m.questions[0]?.name, 'a\\.b.example.');
    assert.equal(
      decodeMessage(encodeMessage({ id: 1, questions: [{ name: '.', type: 2, class: 1 }] })).questions[0]
        ?.name,
      '.',
    );
    assert.deepEqual(nameToLabels('example.test.'), nameToLabels('example.test'));
    assert.throws(() => nameToLabels(`${'a'.repeat(64)}.test.`), /longer than 63/);
    assert.throws(() => nameToLabels(`${'a'.repeat(60)}.`.repeat(5)), /longer than 255/);
    assert.throws(() => nameToLabels('a..b.'), /empty label/);
    assert.throws(() => encodeMessage({ id: 1, answers: [{ name: 'x.', type: 1, data: '1.2.3' }] }), /IPv4/);
  });
});

describe('malformed input is rejected with an error, never a hang', () => {
  const header = (qd: number, an = 0) => [0, 1, 0x81, 0x80, 0, qd, 0, an, 0, 0, 0, 0];
  const rejects = (bytes: number[] | Uint8Array, pattern: RegExp) =>
    assert.throws(
      () => decodeMessage(Uint8Array.from(bytes)),
      (err: unknown) => err instanceof BadServerResponseError && pattern.test(err.message),
    );

  test('compression pointer loops and forward pointers', () => {
    rejects([...header(1), 0xc0, 12, 0, 1, 0, 1], /pointer.*(loop|backwards)/); // points at itself
    // "a" then a pointer back to "a": a two-step loop.
    rejects([...header(1), 1, 0x61, 0xc0, 12, 0, 1, 0, 1], /loop|backwards/);
    rejects([...header(1), 0xc0, 20, 0, 1, 0, 1, 0, 0, 1, 0x61, 0], /backwards/); // forward
    rejects([...header(1), 0x80, 0, 0, 1, 0, 1], /label type/);
  });

  test('a name longer than 255 bytes through chained pointers', () => {
    const bytes = [...header(5)];
    // Five questions, each adding 63-byte labels in front of the previous name.
    let previous = -1;
    for (let i = 0; i < 5; i++) {
      const start = bytes.length;
      bytes.push(63, ...new Array<number>(63).fill(0x61));
      if (previous < 0) bytes.push(0);
      else bytes.push(0xc0 | (previous >> 8), previous & 0xff);
      bytes.push(0, 1, 0, 1);
      previous = start;
    }
    rejects(bytes, /longer than 255/);
  });

  test('every truncation of a valid message', () => {
    const full = encodeMessage(sample());
    for (let n = 0; n < full.length; n++) rejects(full.subarray(0, n), /malformed DNS message/);
  });

  test('RDATA whose length disagrees with its fields', () => {
    // One answer: root owner, type A, class IN, TTL 0, RDLENGTH 5 (A needs 4).
    rejects([...header(0, 1), 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4, 5], /expected 4/);
    // TXT whose character-string length runs past RDATA into the next bytes.
    rejects([...header(0, 1), 0, 0, 16, 0, 1, 0, 0, 0, 0, 0, 2, 5, 0x61, 0, 0, 0], /past the end/);
  });

  test('random corruption only ever throws BadServerResponseError', () => {
    const full = encodeMessage(sample());
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 3000; i++) {
      const copy = Uint8Array.from(full);
      for (let j = 0; j < 1 + (i % 4); j++) copy[rand() % copy.length] = rand() & 0xff;
      try {
        decodeMessage(copy);
      } catch (err) {
        assert.ok(err instanceof BadServerResponseError, `unexpected ${String(err)}`);
      }
    }
  });
});

describe('interoperability with dig (BIND 9)', () => {
  let socket: Socket;
  let port: number;
  let respond: (query: DnsMessage, raw: Buffer, from: RemoteInfo) => void = () => {};

  before(async () => {
    socket = createSocket('udp4');
    socket.on('message', (raw, from) => respond(decodeMessage(new Uint8Array(raw)), raw, from));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    port = socket.address().port;
  });
  after(() => socket.close());

  const dig = async (...args: string[]) =>
    (await run('dig', [`@127.0.0.1`, '-p', String(port), '+tries=1', '+time=5', ...args])).stdout;

  test("dig's query decodes; dig reads our answer (TXT split over 255 bytes, A, AAAA, CNAME)", async () => {
    const seen: DnsMessage[] = [];
    respond = (query, _raw, from) => {
      seen.push(query);
      const q = query.questions[0]!;
      const answer = encodeMessage({
        id: query.id,
        qr: true,
        aa: true,
        rd: query.rd,
        ra: true,
        questions: query.questions,
        answers: [
          { name: q.name, type: RecordType.CNAME, ttl: 60, data: 'target.example.test.' },
          { name: 'target.example.test.', type: RecordType.TXT, ttl: 60, data: { strings: ['hello world'] } },
          { name: 'target.example.test.', type: RecordType.TXT, ttl: 60, data: { strings: [long] } },
          { name: 'target.example.test.', type: RecordType.A, ttl: 60, data: '192.0.2.7' },
          { name: 'target.example.test.', type: RecordType.AAAA, ttl: 60, data: '2001:db8::7' },
        ],
        ...(query.edns ? { edns: { udpPayloadSize: 1232 } } : {}),
      });
      socket.send(answer, from.port, from.address);
    };
    const out = await dig('_ACME-challenge.Example.TEST', 'TXT', '+noall', '+answer', '+comments');
    assert.equal(seen.length, 1);
    const query = seen[0]!;
    assert.deepEqual(query.questions, [{ name: '_acme-challenge.example.test.', type: 16, class: 1 }]);
    assert.equal(query.opcode, Opcode.QUERY);
    assert.equal(query.qr, false);
    assert.equal(query.rd, true);
    assert.ok(query.edns, 'dig sends EDNS by default');
    assert.ok(
      query.edns.options.some((o) => o.code === 10),
      'with a cookie option',
    );

    assert.match(out, /status: NOERROR/);
    assert.doesNotMatch(out, /malformed|WARNING|parse error/i);
    assert.match(out, /_acme-challenge\.example\.test\.\s+60\s+IN\s+CNAME\s+target\.example\.test\./i);
    assert.match(out, /target\.example\.test\.\s+60\s+IN\s+TXT\s+"hello world"/);
    // The long value as two character-strings: 255 bytes, then the rest.
    assert.ok(out.includes(`"${long.slice(0, 255)}" "${long.slice(255)}"`), out);
    assert.match(out, /IN\s+A\s+192\.0\.2\.7/);
    assert.match(out, /IN\s+AAAA\s+2001:db8::7/);
  });

  test('dig +norecurse +noedns: RD clear and no OPT record; an NXDOMAIN answer with SOA is read', async () => {
    const seen: DnsMessage[] = [];
    respond = (query, _raw, from) => {
      seen.push(query);
      const answer = encodeMessage({
        id: query.id,
        qr: true,
        aa: true,
        rcode: 3,
        questions: query.questions,
        authority: [
          {
            name: 'example.test.',
            type: RecordType.SOA,
            ttl: 60,
            data: {
              mname: 'ns1.example.test.',
              rname: 'hostmaster.example.test.',
              serial: 7,
              refresh: 1,
              retry: 2,
              expire: 3,
              minimum: 4,
            },
          },
        ],
      });
      socket.send(answer, from.port, from.address);
    };
    const out = await dig(
      '+norecurse',
      '+noedns',
      'nope.example.test',
      'A',
      '+noall',
      '+comments',
      '+authority',
    );
    assert.equal(seen[0]?.rd, false);
    assert.equal(seen[0]?.edns, undefined);
    assert.match(out, /status: NXDOMAIN/);
    assert.match(out, /flags: qr aa;/);
    assert.match(
      out,
      /example\.test\.\s+60\s+IN\s+SOA\s+ns1\.example\.test\. hostmaster\.example\.test\. 7 1 2 3 4/,
    );
  });
});
