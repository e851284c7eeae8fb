import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { exchange, parseDnsServer, queryDns } from '../../../src/dns/wire/client.ts';
import {
  type DnsMessage,
  decodeMessage,
  encodeMessage,
  type MessageInput,
  RecordClass,
  RecordType,
} from '../../../src/dns/wire/message.ts';
import { signMessage, tsigKey, verifyMessage } from '../../../src/dns/wire/tsig.ts';
import {
  BadServerResponseError,
  InvalidInputError,
  NetworkError,
  TimeoutError,
} from '../../../src/errors/base.ts';
import { Secret } from '../../../src/internal/secret.ts';

describe('parseDnsServer', () => {
  test('host, host:port, IPv6 with and without brackets, names', () => {
    assert.deepEqual(parseDnsServer('127.0.0.1'), { host: '127.0.0.1', port: 53 });
    assert.deepEqual(parseDnsServer(' 127.0.0.1:5353 '), { host: '127.0.0.1', port: 5353 });
    assert.deepEqual(parseDnsServer('[::1]:5300'), { host: '::1', port: 5300 });
    assert.deepEqual(parseDnsServer('[::1]'), { host: '::1', port: 53 });
    assert.deepEqual(parseDnsServer('::1'), { host: '::1', port: 53 });
    assert.deepEqual(parseDnsServer('2001:db8::53'), { host: '2001:db8::53', port: 53 });
    assert.deepEqual(parseDnsServer('ns.example.com:53'), { host: 'ns.example.com', port: 53 });
    assert.deepEqual(parseDnsServer('ns.example.com.', 5353), { host: 'ns.example.com.', port: 5353 });
  });

  test('bad input is InvalidInputError', () => {
    for (const bad of [
      '',
      ':53',
      '127.0.0.1:0',
      '127.0.0.1:65536',
      '127.0.0.1:x',
      '[ns.example.com]:53',
      'a b',
      'x:y:z',
    ]) {
      assert.throws(() => parseDnsServer(bad), InvalidInputError, bad);
    }
  });
});

/** A scriptable DNS server on one port for UDP and TCP. */
interface FakeServer {
  port: number;
  udp: Socket;
  tcp: Server;
  onUdp: (query: DnsMessage, raw: Uint8Array, reply: (bytes: Uint8Array) => void) => void;
  onTcp: (query: DnsMessage, raw: Uint8Array) => Uint8Array;
  udpQueries: number;
  tcpQueries: number;
}

async function startFake(): Promise<FakeServer> {
  for (let attempt = 0; ; attempt++) {
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    const port = udp.address().port;
    const fake: FakeServer = {
      port,
      udp,
      tcp: createServer(),
      onUdp: () => {},
      onTcp: () => new Uint8Array(0),
      udpQueries: 0,
      tcpQueries: 0,
    };
    udp.on('message', (raw: Buffer, from: RemoteInfo) => {
      fake.udpQueries += 1;
      const bytes = new Uint8Array(raw);
      fake.onUdp(decodeMessage(bytes), bytes, (answer) => udp.send(answer, from.port, from.address));
    });
    fake.tcp.on('connection', (conn) => {
      let buf = Buffer.alloc(0);
      conn.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
        fake.tcpQueries += 1;
        const raw = new Uint8Array(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        const answer = fake.onTcp(decodeMessage(raw), raw);
        const len = Buffer.alloc(2);
        len.writeUInt16BE(answer.length);
        conn.end(Buffer.concat([len, answer]));
      });
    });
    try {
      await new Promise<void>((resolve, reject) => {
        fake.tcp.once('error', reject);
        fake.tcp.listen(port, '127.0.0.1', resolve);
      });
      return fake;
    } catch (err) {
      udp.close();
      if (attempt > 3) throw err;
    }
  }
}

const answerTo = (q: DnsMessage, extra: Partial<MessageInput> = {}): Uint8Array =>
  encodeMessage({ id: q.id, qr: true, aa: true, questions: q.questions, ...extra });
const txt = (name: string, value: string) => ({
  name,
  type: RecordType.TXT,
  ttl: 60,
  data: { strings: [value] },
});

describe('queryDns and exchange against a scripted server', () => {
  let fake: FakeServer;
  let server: { host: string; port: number };
  before(async () => {
    fake = await startFake();
    server = { host: '127.0.0.1', port: fake.port };
  });
  after(() => {
    fake.udp.close();
    fake.tcp.close();
  });
  beforeEach(() => {
    fake.udpQueries = 0;
    fake.tcpQueries = 0;
  });

  test('sends RD and EDNS by default, RD clear on request; returns rcode, AA and sections', async () => {
    const seen: DnsMessage[] = [];
    fake.onUdp = (q, _raw, reply) => {
      seen.push(q);
      reply(answerTo(q, { answers: [txt(q.questions[0]!.name, 'v1')], edns: { udpPayloadSize: 1232 } }));
    };
    const res = await queryDns(server, '_ACME-Challenge.Example.Test', 'TXT');
    assert.equal(seen[0]?.rd, true);
    assert.equal(seen[0]?.edns?.udpPayloadSize, 1232);
    assert.deepEqual(seen[0]?.questions, [{ name: '_acme-challenge.example.test.', type: 16, class: 1 }]);
    assert.deepEqual(
      [res.rcode, res.rcodeName, res.authoritative, res.truncated],
      [0, 'NOERROR', true, false],
    );
    assert.deepEqual(
      res.answers.map((rr) => rr.typeName === 'TXT' && rr.data.text),
      ['v1'],
    );
    await queryDns(server, 'example.test', 'SOA', { recursionDesired: false });
    assert.equal(seen[1]?.rd, false);
  });

  test('NXDOMAIN is an answer, not an error', async () => {
    fake.onUdp = (q, _raw, reply) => reply(answerTo(q, { rcode: 3 }));
    const res = await queryDns(server, 'nope.example.test', 'A');
    assert.deepEqual([res.rcode, res.rcodeName], [3, 'NXDOMAIN']);
  });

  test('answers with another ID or question are ignored (spoofing); the right one is taken', async () => {
    fake.onUdp = (q, _raw, reply) => {
      reply(
        answerTo({ ...q, id: (q.id + 1) & 0xffff }, { answers: [txt(q.questions[0]!.name, 'spoof-id')] }),
      );
      reply(
        encodeMessage({
          id: q.id,
          qr: true,
          questions: [{ name: 'other.test.', type: RecordType.TXT, class: RecordClass.IN }],
          answers: [txt('other.test.', 'spoof-question')],
        }),
      );
      reply(answerTo(q, { answers: [txt(q.questions[0]!.name, 'real')] }));
    };
    const res = await queryDns(server, 'x.example.test', 'TXT');
    assert.deepEqual(
      res.answers.map((rr) => rr.typeName === 'TXT' && rr.data.text),
      ['real'],
    );
  });

  test('a lost datagram is retransmitted within the deadline', async () => {
    fake.onUdp = (q, _raw, reply) => {
      if (fake.udpQueries === 1) return; // drop the first
      reply(answerTo(q));
    };
    const res = await queryDns(server, 'x.example.test', 'A', { timeoutMs: 3000 });
    assert.equal(res.rcode, 0);
    assert.equal(fake.udpQueries, 2);
  });

  test('a truncated UDP answer is asked again over TCP', async () => {
    fake.onUdp = (q, _raw, reply) => reply(answerTo(q, { tc: true }));
    const values = Array.from({ length: 20 }, (_, i) => `${i}`.padStart(200, 'x'));
    fake.onTcp = (q) => answerTo(q, { answers: values.map((v) => txt(q.questions[0]!.name, v)) });
    const res = await queryDns(server, 'big.example.test', 'TXT');
    assert.equal(res.truncated, false);
    assert.deepEqual(
      res.answers.map((rr) => rr.typeName === 'TXT' && rr.data.text),
      values,
    );
    assert.deepEqual([fake.udpQueries, fake.tcpQueries], [1, 1]);
  });

  test('an EDNS-less server answering FORMERR is asked again without OPT', async () => {
    const seen: DnsMessage[] = [];
    fake.onUdp = (q, _raw, reply) => {
      seen.push(q);
      reply(answerTo(q, q.edns ? { rcode: 1 } : { answers: [txt(q.questions[0]!.name, 'old')] }));
    };
    const res = await queryDns(server, 'x.example.test', 'TXT');
    assert.equal(res.rcode, 0);
    assert.deepEqual(
      seen.map((q) => q.edns !== undefined),
      [true, false],
    );
  });

  test('a server that never answers: TimeoutError naming it, after about the deadline', async () => {
    fake.onUdp = () => {};
    const started = Date.now();
    const err = await queryDns(server, 'x.example.test', 'A', { timeoutMs: 600 }).then(
      () => assert.fail('answered'),
      (e: unknown) => e,
    );
    const elapsed = Date.now() - started;
    assert.ok(err instanceof TimeoutError, String(err));
    assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${fake.port} did not answer within 0\\.6 s`));
    assert.ok(elapsed >= 550 && elapsed < 3000, `${elapsed} ms`);
    assert.ok(fake.udpQueries >= 2, 'retransmitted at least once');
  });

  test('an aborted signal rejects promptly with its reason', async () => {
    fake.onUdp = () => {};
    const reason = new Error('stop now');
    const ac = new AbortController();
    setTimeout(() => ac.abort(reason), 50);
    const started = Date.now();
    await assert.rejects(
      queryDns(server, 'x.example.test', 'A', { signal: ac.signal, timeoutMs: 10_000 }),
      (e) => e === reason,
    );
    assert.ok(Date.now() - started < 2000);
    await assert.rejects(
      queryDns(server, 'x.example.test', 'A', { signal: AbortSignal.abort(reason) }),
      (e) => e === reason,
    );
  });

  test('a malformed answer is BadServerResponseError naming the server', async () => {
    fake.onUdp = (q, _raw, reply) => {
      const good = answerTo(q, { answers: [txt(q.questions[0]!.name, 'v')] });
      reply(good.subarray(0, good.length - 3));
    };
    await assert.rejects(
      queryDns(server, 'x.example.test', 'TXT'),
      (e: unknown) => e instanceof BadServerResponseError && e.message.includes(`127.0.0.1:${fake.port}`),
    );
  });

  test('nothing listening (ICMP port unreachable): NetworkError, without waiting for the deadline', async () => {
    const probe = createSocket('udp4');
    await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
    const closedPort = probe.address().port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const started = Date.now();
    await assert.rejects(
      queryDns({ host: '127.0.0.1', port: closedPort }, 'x.example.test', 'A', { timeoutMs: 10_000 }),
      (e: unknown) => e instanceof NetworkError && /nothing listens on UDP port/.test(e.message),
    );
    assert.ok(Date.now() - started < 5000);
  });

  test('TSIG: the signed answer is accepted; unsigned or wrongly signed answers are errors', async () => {
    const key = tsigKey('k.', 'hmac-sha256.', new Secret(Buffer.alloc(32, 7).toString('base64')));
    const other = tsigKey('k.', 'hmac-sha256.', new Secret(Buffer.alloc(32, 8).toString('base64')));
    const request = {
      id: 99,
      questions: [{ name: 'example.test.', type: RecordType.SOA, class: RecordClass.IN }],
    };
    let signWith: typeof key | undefined = key;
    fake.onUdp = (q, raw, reply) => {
      const verdict = verifyMessage(raw, key);
      assert.ok(verdict.ok, 'the request is signed');
      const answer = answerTo(q);
      reply(signWith ? signMessage(answer, signWith, { requestMac: verdict.mac }).bytes : answer);
    };
    const ok = await exchange(server, request, { tsig: key });
    assert.equal(ok.message.rcode, 0);
    assert.equal(ok.tsigError, undefined);
    signWith = undefined;
    await assert.rejects(
      exchange(server, { ...request, id: 100 }, { tsig: key }),
      /not validly signed \(the message carries no TSIG/,
    );
    signWith = other;
    await assert.rejects(
      exchange(server, { ...request, id: 101 }, { tsig: key }),
      /not validly signed \(the MAC does not match/,
    );
  });
});
