// Prints how fast an autoHttps server completes new TLS handshakes with 1, 1,000 and 10,000 managed
// certificates, next to a plain https.createServer with one fixed certificate, and what each idle
// certificate costs in RSS. Not a test: it asserts nothing.
//   node --import tsx bench/tls.ts [--seconds 6] [--rounds 6] [--concurrency 16] [--counts 1,1000,10000]
// Each server runs in its own child process (`--serve`), so its RSS is its own and the client (this
// process) gets the other core.
import { fork } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadAsn1 } from '../src/crypto/asn1-loader.ts';
import { algorithmIdentifier, signatureProfile, subjectAltNameExtension } from '../src/crypto/csr.ts';
import { encodePem } from '../src/internal/pem.ts';
import { autoHttps } from '../src/server/index.ts';
import { FileStore } from '../src/storage/file-store.ts';
import { certificateKeys } from '../src/storage/lego/layout.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '6' },
    rounds: { type: 'string', default: '6' },
    concurrency: { type: 'string', default: '16' },
    counts: { type: 'string', default: '1,1000,10000' },
    serve: { type: 'string' }, // internal: run as the server child ("plain" or a count)
    dir: { type: 'string' },
  },
});

const nameOf = (i: number): string => `c${i}.bench.test`;

type ToParent =
  | {
      kind: 'ready';
      port: number;
      rssBefore: number;
      rssIdle: number;
      heapBefore: number;
      heapIdle: number;
      failures: number;
      ms: number;
    }
  | { kind: 'rss'; rss: number };

/** RSS after a full collection, so garbage does not count (children run with --expose-gc). */
function settledRss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

/** JS heap plus memory held outside it for JS objects (Buffers), after settledRss()'s collection. */
function heapBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

async function serve(mode: string, dir: string): Promise<void> {
  const send = (m: ToParent): void => {
    process.send?.(m);
  };
  const rssBefore = settledRss();
  const heapBefore = heapBytes();
  const t0 = performance.now();
  let server: Server;
  let failures = 0;
  if (mode === 'plain') {
    const { readFile } = await import('node:fs/promises');
    const files = certificateKeys(nameOf(0));
    const [cert, key] = await Promise.all([
      readFile(join(dir, files.crt), 'utf8'),
      readFile(join(dir, files.key), 'utf8'),
    ]);
    server = createHttpsServer({ cert, key });
  } else {
    const count = Number(mode);
    const tls = await autoHttps({
      certificates: Array.from({ length: count }, (_, i) => [nameOf(i)]),
      store: new FileStore(dir),
      // Every certificate is fresh, so the CA is never asked; ARI off keeps it that way.
      directory: 'https://127.0.0.1:9/directory',
      ari: false,
      challenges: ['http-01'],
    });
    server = tls.attach(createHttpsServer(tls.serverOptions));
    // Each certificate's first check runs on a timer at start; wait until all have run.
    while (tls.status().certificates.some((c) => c.reason === undefined && c.failures === 0)) {
      await new Promise((r) => setTimeout(r, 500)); // status() of 10,000 is not free: poll slowly
    }
    failures = tls.status().certificates.filter((c) => c.failures > 0).length;
  }
  server.on('request', (_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const ms = performance.now() - t0;
  send({
    kind: 'ready',
    port: typeof address === 'object' && address ? address.port : 0,
    rssBefore,
    rssIdle: settledRss(),
    heapBefore,
    heapIdle: heapBytes(),
    failures,
    ms,
  });
  process.on('message', (m) => {
    if (m === 'rss') send({ kind: 'rss', rss: settledRss() });
    if (m === 'exit') process.exit(0);
  });
}

/** Distinct certificates c0..c(n-1).bench.test, signed by one throwaway CA key, all on ONE leaf key. */
async function writeCertificates(dir: string, count: number): Promise<void> {
  const asn1 = await loadAsn1();
  const { schema, x509 } = asn1;
  const caKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const leafKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const profile = signatureProfile(caKey);
  const cn = (value: string) =>
    new x509.Name([
      new x509.RelativeDistinguishedName([
        new x509.AttributeTypeAndValue({
          type: '2.5.4.3',
          value: new x509.AttributeValue({ utf8String: value }),
        }),
      ]),
    ]);
  const spki = (key: KeyObject) =>
    schema.AsnConvert.parse(
      createPublicKey(key).export({ type: 'spki', format: 'der' }),
      x509.SubjectPublicKeyInfo,
    );
  const leafSpki = spki(leafKey);
  const issuer = cn('acmekit bench CA');
  const keyPem = leafKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const now = Date.now();
  await mkdir(join(dir, 'certificates'), { recursive: true, mode: 0o700 });
  const writes: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const serial = randomBytes(16);
    serial[0] = (serial[0]! & 0x7f) | 0x40;
    const tbs = new x509.TBSCertificate({
      version: 2,
      serialNumber: new Uint8Array(serial).buffer,
      signature: algorithmIdentifier(asn1, profile),
      issuer,
      validity: new x509.Validity({
        notBefore: new Date(now - 3_600_000),
        notAfter: new Date(now + 90 * 86_400_000),
      }),
      subject: cn(nameOf(i)),
      subjectPublicKeyInfo: leafSpki,
      extensions: new x509.Extensions([
        subjectAltNameExtension(asn1, [{ type: 'dns', value: nameOf(i) }], false),
      ]),
    });
    const signature = sign(profile.hash, Buffer.from(schema.AsnConvert.serialize(tbs)), caKey);
    const der = schema.AsnConvert.serialize(
      new x509.Certificate({
        tbsCertificate: tbs,
        signatureAlgorithm: algorithmIdentifier(asn1, profile),
        signatureValue: new Uint8Array(signature).buffer,
      }),
    );
    const files = certificateKeys(nameOf(i));
    writes.push(
      writeFile(join(dir, files.crt), encodePem('CERTIFICATE', new Uint8Array(der))),
      writeFile(join(dir, files.key), keyPem, { mode: 0o600 }),
    );
    if (writes.length >= 512) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Fresh full handshakes (no session reuse) from `concurrency` loops for `ms`; SNI drawn by `pick`. */
async function handshakes(
  port: number,
  pick: () => string | undefined,
  ms: number,
  concurrency: number,
): Promise<{ rate: number; errors: number }> {
  let done = 0;
  let errors = 0;
  const end = performance.now() + ms;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const servername = pick();
      const socket = connect({
        host: '127.0.0.1',
        port,
        ...(servername ? { servername } : {}),
        rejectUnauthorized: false, // the bench CA is throwaway; the handshake work is the same
      });
      socket.once('secureConnect', () => {
        done++;
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        errors++;
        resolve();
      });
    });
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) await one();
    }),
  );
  return { rate: done / ((performance.now() - t0) / 1000), errors };
}

/** Every name once, so each SecureContext exists before the warm run. */
async function touchAll(port: number, count: number, concurrency: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const name = nameOf(next++);
        await new Promise<void>((resolve) => {
          const s = connect({ host: '127.0.0.1', port, servername: name, rejectUnauthorized: false });
          s.once('secureConnect', () => {
            s.destroy();
            resolve();
          });
          s.once('error', () => resolve());
        });
      }
    }),
  );
}

async function startServer(mode: string, dir: string) {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', mode, '--dir', dir], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (): Promise<ToParent> => new Promise((r) => child.once('message', (m) => r(m as ToParent)));
  const ready = (await next()) as Extract<ToParent, { kind: 'ready' }>;
  return {
    ...ready,
    rss: async () => {
      const answer = next();
      child.send('rss');
      return ((await answer) as Extract<ToParent, { kind: 'rss' }>).rss;
    },
    stop: () =>
      new Promise<void>((r) => {
        child.once('exit', () => r());
        child.send('exit');
      }),
  };
}

async function main(): Promise<void> {
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  const concurrency = Number(values.concurrency);
  const counts = values.counts!.split(',').map(Number);
  const max = Math.max(...counts);
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-bench-tls-'));
  const MiB = 1024 * 1024;
  try {
    const t0 = performance.now();
    await writeCertificates(dir, max);
    console.log(
      `${max} distinct certificates (own DER writer: one CA key, ONE shared P-256 leaf key, one SAN each) ` +
        `written to a FileStore in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    console.log(
      `client: ${concurrency} parallel loops of fresh TLS 1.3 handshakes (no session reuse), ${seconds} s per server and count\n`,
    );
    const ms = seconds * 1000;
    // The plain server stays up the whole run; windows alternate between it and the managed server, so
    // load from elsewhere on the machine hits both alike. The ratio is the median of the pairs.
    const plain = await startServer('plain', dir);
    const plainName = () => nameOf(0);
    await handshakes(plain.port, plainName, 500, concurrency); // warm up
    console.log(`plain https.createServer, one certificate: RSS ${(plain.rssIdle / MiB).toFixed(1)} MiB`);
    const results: { count: number; ratio: number; rssIdle: number; rssActive: number; heapIdle: number }[] =
      [];
    for (const count of counts) {
      const s = await startServer(String(count), dir);
      const random = () => nameOf(Math.floor(Math.random() * count));
      const cold = await handshakes(s.port, random, ms / rounds, concurrency);
      await touchAll(s.port, count, concurrency);
      const pairs: { plain: number; managed: number }[] = [];
      let errors = cold.errors;
      for (let i = 0; i < rounds; i++) {
        const p = await handshakes(plain.port, plainName, ms / rounds, concurrency);
        const m = await handshakes(s.port, random, ms / rounds, concurrency);
        errors += p.errors + m.errors;
        pairs.push({ plain: p.rate, managed: m.rate });
      }
      const ratio = median(pairs.map((x) => x.managed / x.plain));
      const rssActive = await s.rss();
      results.push({ count, ratio, rssIdle: s.rssIdle, rssActive, heapIdle: s.heapIdle - s.heapBefore });
      console.log(
        `autoHttps, ${count} certificates: ready in ${(s.ms / 1000).toFixed(1)} s (${s.failures} failed checks); ` +
          `handshakes/s: cold ${cold.rate.toFixed(0)}, warm median ${median(pairs.map((x) => x.managed)).toFixed(0)} ` +
          `vs plain ${median(pairs.map((x) => x.plain)).toFixed(0)} in the same rounds (errors ${errors}); ` +
          `RSS idle ${(s.rssIdle / MiB).toFixed(1)} MiB, with every context built ${(rssActive / MiB).toFixed(1)} MiB`,
      );
      await s.stop();
    }
    await plain.stop();
    console.log('');
    const base = results.find((r) => r.count === Math.min(...counts))!;
    for (const r of results) {
      const line = `${String(r.count).padStart(6)} certificates: warm handshake rate ${(r.ratio * 100).toFixed(1)} % of plain`;
      if (r === base) {
        console.log(line);
        continue;
      }
      // Marginal cost: the difference to the smallest configuration, so code and start-up costs cancel.
      const n = r.count - base.count;
      const kib = (bytes: number) => `${(bytes / n / 1024).toFixed(2)} KiB`;
      console.log(
        `${line}; per certificate: idle RSS ${kib(r.rssIdle - base.rssIdle)} (JS heap + external ` +
          `${kib(r.heapIdle - base.heapIdle)}), with its SecureContext built ${kib(r.rssActive - base.rssActive)}`,
      );
    }
    console.log(
      '\ncold = random names right after start (SecureContexts built on first use); warm = after every name was used once,\n' +
        `${rounds} alternating windows of ${(ms / rounds / 1000).toFixed(1)} s against the plain server, ratio = median of the pairs.\n` +
        `per certificate = (figure at N - figure at ${base.count}) / (N - ${base.count}); RSS and heap read after gc.`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (values.serve) await serve(values.serve, values.dir!);
else await main();
