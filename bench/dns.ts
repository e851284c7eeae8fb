// Prints how long the dns-01 propagation check takes for 10 names on a local BIND 9, from "all records
// presented" to "CA may be told", with the default settings (first check at once, then every
// RFC2136_POLLING_INTERVAL). Not a test: it asserts nothing.
//   node --import tsx bench/dns.ts [--runs 20]
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createDnsProvider } from '../src/dns/registry.ts';
import { Dns01Solver } from '../src/solvers/dns01.ts';
import type { ChallengeContext } from '../src/solvers/solver.ts';
import { startBind } from '../test/support/bind.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const runs = Number(values.runs);
const NAMES = 10;
const secret = randomBytes(32).toString('base64');
const bind = await startBind({ keys: [{ name: 'bench-key.', secret }] });

function ctx(name: string, run: number): ChallengeContext {
  const value = randomBytes(32).toString('base64url');
  // Only the fields the dns-01 solver reads.
  return {
    identifier: { type: 'dns', value: name },
    authorization: { url: `urn:bench:${run}:${name}` },
    challenge: {
      url: `urn:bench:${run}:${name}:c`,
      dnsRecordName: `_acme-challenge.${name}`,
      dnsTxtValue: value,
      token: value,
      keyAuthorization: `${value}.bench`,
    },
  } as unknown as ChallengeContext;
}

async function measure(mode: 'authoritative' | 'resolver') {
  const loaded = await createDnsProvider('rfc2136', {
    env: {
      RFC2136_NAMESERVER: `127.0.0.1:${bind.port}`,
      RFC2136_TSIG_KEY: 'bench-key.',
      RFC2136_TSIG_SECRET: secret,
    },
  });
  const solver = new Dns01Solver({
    provider: loaded,
    resolvers: [`127.0.0.1:${bind.port}`],
    nameserverPort: bind.port,
    propagation: { authoritative: mode === 'authoritative' },
  });
  const times: number[] = [];
  const signal = new AbortController().signal;
  for (let run = 0; run < runs; run++) {
    const ctxs = Array.from({ length: NAMES }, (_, i) => ctx(`n${i}.example.test`, run));
    await Promise.all(ctxs.map((c) => solver.present(c, signal)));
    const t0 = performance.now();
    await Promise.all(ctxs.map((c) => solver.wait(c, signal)));
    times.push(performance.now() - t0);
    await Promise.all(ctxs.map((c) => solver.cleanup(c, signal)));
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(1);
  console.log(
    `${mode.padEnd(13)} ${NAMES} names, ${runs} runs: presented → visible median ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${q(1)} ms`,
  );
}

console.log(
  `BIND ${bind.host}:${bind.port}, polling interval ${(await createDnsProvider('rfc2136', { env: { RFC2136_NAMESERVER: 'x' } })).settings.pollingIntervalMs} ms (default)`,
);
await measure('authoritative');
await measure('resolver');
await bind.stop();
