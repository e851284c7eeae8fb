import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';
import {
  decodeMessage,
  encodeMessage,
  Opcode,
  RecordClass,
  RecordType,
} from '../../../src/dns/wire/message.ts';
import {
  parseTsigAlgorithm,
  signMessage,
  type TsigAlgorithm,
  type TsigKey,
  tsigAlgorithms,
  tsigKey,
  verifyMessage,
} from '../../../src/dns/wire/tsig.ts';
import { InvalidInputError } from '../../../src/errors/base.ts';
import { Secret } from '../../../src/internal/secret.ts';

const algorithms = Object.keys(tsigAlgorithms) as TsigAlgorithm[];
const newSecret = () => randomBytes(32).toString('base64');
const key = (algorithm: TsigAlgorithm = 'hmac-sha256.', secret = newSecret(), name = 'Acme-Key') =>
  tsigKey(name, algorithm, new Secret(secret));

const query = (id = 0x1234) =>
  encodeMessage({
    id,
    rd: true,
    questions: [{ name: 'example.test.', type: RecordType.SOA, class: RecordClass.IN }],
  });

describe('TSIG sign and verify (RFC 8945)', () => {
  for (const algorithm of algorithms) {
    test(`${algorithm}: a signed request verifies; the signed response verifies against the request MAC`, () => {
      const k = key(algorithm);
      const req = signMessage(query(), k);
      assert.equal(req.mac.length, tsigAlgorithms[algorithm].size);
      const decoded = decodeMessage(req.bytes);
      assert.equal(decoded.tsig?.keyName, 'acme-key.');
      assert.equal(decoded.tsig?.data.algorithm, algorithm);
      assert.equal(decoded.tsig?.data.fudge, 300);
      assert.equal(decoded.additional.length, 0, 'TSIG is not counted as an ordinary record');
      assert.deepEqual(verifyMessage(req.bytes, k), { ok: true, mac: req.mac, error: 0 });

      const res = signMessage(encodeMessage({ id: 0x1234, qr: true }), k, { requestMac: req.mac });
      assert.equal(verifyMessage(res.bytes, k, { requestMac: req.mac }).ok, true);
      // The response MAC covers the request MAC: another request's MAC does not fit.
      const other = signMessage(query(0x4321), k);
      assert.equal(verifyMessage(res.bytes, k, { requestMac: other.mac }).ok, false);
    });
  }

  test('tampering, another secret, another key, an old signature, no signature: each refused for its reason', () => {
    const k = key();
    const signed = signMessage(query(), k);
    const tampered = Uint8Array.from(signed.bytes);
    tampered[13] = tampered[13]! ^ 0x20;
    // Only the case of one letter changes: the same name to DNS, but not the bytes the MAC covers.
    assert.equal(decodeMessage(tampered).questions[0]?.name, 'example.test.');
    assert.equal(reason(verifyMessage(tampered, k)), 'mac');
    const flippedId = Uint8Array.from(signed.bytes);
    flippedId[0] = flippedId[0]! ^ 1; // a forwarder may change the ID; Original ID keeps the MAC valid (RFC 8945 §4.3)
    assert.equal(verifyMessage(flippedId, k).ok, true);
    assert.equal(reason(verifyMessage(signed.bytes, key('hmac-sha256.'))), 'mac');
    assert.equal(reason(verifyMessage(signed.bytes, key('hmac-sha256.', newSecret(), 'other-key'))), 'key');
    assert.equal(reason(verifyMessage(signed.bytes, key('hmac-sha512.'))), 'key');
    const old = signMessage(query(), k, { now: Date.now() - 301_000 });
    const verdict = verifyMessage(old.bytes, k);
    assert.equal(reason(verdict), 'time');
    assert.equal(verifyMessage(old.bytes, k, { now: Date.now() - 300_000 }).ok, true);
    assert.equal(reason(verifyMessage(query(), k)), 'unsigned');
  });

  test("a peer's BADKEY/BADSIG (unsigned) and BADTIME (signed) are reported as its TSIG error", () => {
    const k = key();
    const req = signMessage(query(), k);
    for (const [error, name] of [
      [17, 'BADKEY'],
      [16, 'BADSIG'],
    ] as const) {
      // An unsigned error answer: TSIG record with an empty MAC.
      const unsigned = signMessage(encodeMessage({ id: 0x1234, qr: true, rcode: 9 }), k, { error });
      const m = decodeMessage(unsigned.bytes);
      const stripped = { ...m.tsig!.data, mac: new Uint8Array(0) };
      const bytes = resign(unsigned.bytes, m.tsig!.offset, k, stripped);
      const verdict = verifyMessage(bytes, k, { requestMac: req.mac });
      assert.deepEqual(verdict.ok ? undefined : [verdict.reason, verdict.tsigError], ['server', name]);
    }
    const badtime = signMessage(encodeMessage({ id: 0x1234, qr: true, rcode: 9 }), k, {
      requestMac: req.mac,
      error: 18,
      otherData: Uint8Array.from([0, 0, 0, 0, 0, 1]),
    });
    const verdict = verifyMessage(badtime.bytes, k, { requestMac: req.mac });
    assert.deepEqual(verdict.ok ? undefined : [verdict.reason, verdict.tsigError], ['server', 'BADTIME']);
  });

  test('algorithm names: with or without the dot, any case; unknown ones rejected; secrets must be base64', () => {
    assert.equal(parseTsigAlgorithm('HMAC-SHA256'), 'hmac-sha256.');
    assert.equal(parseTsigAlgorithm('hmac-sha1.'), 'hmac-sha1.');
    assert.equal(parseTsigAlgorithm('hmac-md5.sig-alg.reg.int.'), undefined);
    assert.equal(parseTsigAlgorithm('sha256'), undefined);
    const canary = 'not*base64!canary';
    assert.throws(
      () => tsigKey('k', 'hmac-sha256.', new Secret(canary)),
      (err: unknown) =>
        err instanceof InvalidInputError &&
        !err.message.includes(canary) &&
        !String(err.value).includes(canary),
    );
    const secret = newSecret();
    const k = key('hmac-sha256.', secret);
    for (const text of [JSON.stringify(k), inspect(k), String(k.secret)])
      assert.ok(!text.includes(secret), text);
  });
});

describe('interoperability with nsupdate (BIND 9) as an independent implementation', () => {
  let socket: Socket;
  let port: number;
  let onMessage: (raw: Uint8Array, from: RemoteInfo) => void = () => {};

  before(async () => {
    socket = createSocket('udp4');
    socket.on('message', (raw, from) => onMessage(new Uint8Array(raw), from));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    port = socket.address().port;
  });
  after(() => socket.close());

  /** Runs nsupdate with a key and a one-update script against our socket; resolves with its exit and stderr. */
  function nsupdate(k: {
    algorithm: string;
    name: string;
    secret: string;
  }): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(
        'nsupdate',
        ['-y', `${k.algorithm}:${k.name}:${k.secret}`, '-t', '5', '-u', '2', '-r', '0'],
        {
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (s: string) => {
        stderr += s;
      });
      child.stdout.resume();
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
      child.stdin.end(
        [
          `server 127.0.0.1 ${port}`,
          'zone example.test',
          'update add _acme-challenge.example.test. 60 TXT "token-value"',
          'send',
          '',
        ].join('\n'),
      );
    });
  }

  for (const algorithm of algorithms) {
    test(`${algorithm}: nsupdate's signature verifies with our code, and nsupdate accepts our signed answer`, async () => {
      const secret = newSecret();
      const k: TsigKey = key(algorithm, secret, 'nsupdate-key.');
      const received: Uint8Array[] = [];
      onMessage = (raw, from) => {
        received.push(raw);
        const verdict = verifyMessage(raw, k);
        if (!verdict.ok) return; // nsupdate then times out and the assertions below say why
        const request = decodeMessage(raw);
        const answer = encodeMessage({
          id: request.id,
          qr: true,
          opcode: Opcode.UPDATE,
          questions: request.questions,
        });
        socket.send(signMessage(answer, k, { requestMac: verdict.mac }).bytes, from.port, from.address);
      };
      const result = await nsupdate({ algorithm: algorithm.slice(0, -1), name: 'nsupdate-key.', secret });
      assert.equal(received.length, 1);
      const raw = received[0]!;
      assert.equal(reason(verifyMessage(raw, k)), undefined, "our code verifies nsupdate's MAC");
      const m = decodeMessage(raw);
      assert.equal(m.opcode, Opcode.UPDATE);
      assert.deepEqual(m.questions, [{ name: 'example.test.', type: RecordType.SOA, class: RecordClass.IN }]);
      assert.equal(m.authority[0]?.typeName, 'TXT');
      assert.deepEqual(m.authority[0]?.data, { strings: ['token-value'], text: 'token-value' });
      assert.equal(m.tsig?.data.algorithm, algorithm);
      assert.equal(result.code, 0, `nsupdate verifies our answer's MAC: ${result.stderr}`);
    });
  }

  test('nsupdate rejects an answer signed with another secret (our MAC is what it checks)', async () => {
    const secret = newSecret();
    const k = key('hmac-sha256.', secret, 'nsupdate-key.');
    const wrong = key('hmac-sha256.', newSecret(), 'nsupdate-key.');
    onMessage = (raw, from) => {
      const verdict = verifyMessage(raw, k);
      if (!verdict.ok) return;
      const request = decodeMessage(raw);
      const answer = encodeMessage({
        id: request.id,
        qr: true,
        opcode: Opcode.UPDATE,
        questions: request.questions,
      });
      socket.send(signMessage(answer, wrong, { requestMac: verdict.mac }).bytes, from.port, from.address);
    };
    const result = await nsupdate({ algorithm: 'hmac-sha256', name: 'nsupdate-key.', secret });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /tsig|signature/i);
  });
});

function reason(v: ReturnType<typeof verifyMessage>): string | undefined {
  return v.ok ? undefined : v.reason;
}

/** Rewrites a message's TSIG record with other fields (to build the unsigned error answers servers send). */
function resign(
  bytes: Uint8Array,
  offset: number,
  k: TsigKey,
  data: {
    timeSigned: number;
    fudge: number;
    mac: Uint8Array;
    originalId: number;
    error: number;
    otherData: Uint8Array;
  },
): Uint8Array {
  const head = Uint8Array.from(bytes.subarray(0, offset));
  const name = Buffer.from(
    k.name
      .slice(0, -1)
      .split('.')
      .flatMap((l) => [l.length, ...Buffer.from(l)])
      .concat([0]),
  );
  const alg = Buffer.from(
    k.algorithm
      .slice(0, -1)
      .split('.')
      .flatMap((l) => [l.length, ...Buffer.from(l)])
      .concat([0]),
  );
  const rdata = Buffer.concat([
    alg,
    Buffer.from([0, 0, ...u32(data.timeSigned)]),
    Buffer.from([data.fudge >> 8, data.fudge & 0xff, data.mac.length >> 8, data.mac.length & 0xff]),
    Buffer.from(data.mac),
    Buffer.from([data.originalId >> 8, data.originalId & 0xff, data.error >> 8, data.error & 0xff]),
    Buffer.from([data.otherData.length >> 8, data.otherData.length & 0xff]),
    Buffer.from(data.otherData),
  ]);
  const rr = Buffer.concat([
    name,
    Buffer.from([0, 250, 0, 255, 0, 0, 0, 0, rdata.length >> 8, rdata.length & 0xff]),
    rdata,
  ]);
  return new Uint8Array(Buffer.concat([head, rr]));
}

function u32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}
