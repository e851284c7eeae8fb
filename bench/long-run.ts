// The long-run reliability check (issue 7): 100 issuances with Pebble rejecting 50 % of nonces, then
// 100 through the fault proxy injecting 5 % 503 (Retry-After: 1) and 2 % connection resets (half before
// Pebble sees the request, half after it answered). Prints successes and what the retries cost.
// Not a test and not in CI (about two minutes):   node --import tsx bench/long-run.ts [--n 100]
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { AcmeClient, Http01ListenerSolver, obtainCertificate } from '../src/index.ts';
import { type FaultProxy, type ProxyLogEntry, reply, startFaultProxy } from '../test/support/fault-proxy.ts';
import { type PebbleServer, startPebble } from '../test/support/pebble.ts';

const { values } = parseArgs({ options: { n: { type: 'string', default: '100' } } });
const N = Number(values.n);

interface Outcome {
  ok: number;
  failures: string[];
  log: readonly ProxyLogEntry[];
  ms: number;
}

async function run(pebble: PebbleServer, proxy: FaultProxy, label: string): Promise<Outcome> {
  const client = new AcmeClient(proxy.directoryUrl, { caBundle: pebble.caBundle });
  const account = await client.createAccount({ acceptTos: true });
  const solver = new Http01ListenerSolver({ port: pebble.httpPort, host: '127.0.0.1' });
  proxy.clearLog();
  const failures: string[] = [];
  let ok = 0;
  const started = performance.now();
  for (let i = 0; i < N; i++) {
    const name = `${label}-${i}-${randomBytes(3).toString('hex')}.long.test`;
    try {
      await obtainCertificate(account, { names: [name], solvers: [solver] });
      ok++;
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
    }
  }
  const ms = performance.now() - started;
  await proxy.idle();
  client.close();
  return { ok, failures, log: [...proxy.log], ms };
}

function report(title: string, o: Outcome) {
  const count = (f: (e: ProxyLogEntry) => boolean) => o.log.filter(f).length;
  const badNonce = count((e) => e.problemType === 'urn:ietf:params:acme:error:badNonce');
  const injected503 = count((e) => e.faults.includes('reply') && e.status === 503);
  const resets = count((e) => e.faults.includes('reset'));
  const nonces = o.log.map((e) => e.nonce).filter((n): n is string => n !== undefined);
  const reused = nonces.length - new Set(nonces).size;
  console.log(`\n${title}`);
  console.log(`  issued:                 ${o.ok}/${N}   (${(o.ms / 1000).toFixed(1)} s)`);
  console.log(`  requests:               ${o.log.length} (${(o.log.length / N).toFixed(2)} per issuance)`);
  console.log(`  badNonce answers:       ${badNonce}`);
  console.log(`  injected 503s:          ${injected503}`);
  console.log(`  injected resets:        ${resets}`);
  console.log(
    `  retried requests:       ${badNonce + injected503 + resets} (${((badNonce + injected503 + resets) / o.log.length).toFixed(3)} per request)`,
  );
  console.log(`  nonce sent twice:       ${reused}`);
  for (const f of o.failures.slice(0, 5)) console.log(`  failed: ${f}`);
}

// Run 1: Pebble rejects half of all good nonces.
{
  const pebble = await startPebble({ nonceReject: 50, authzReuse: 0 });
  const proxy = await startFaultProxy({ target: pebble });
  try {
    report('Pebble rejecting 50 % of nonces', await run(pebble, proxy, 'nonce'));
  } finally {
    await proxy.stop();
    await pebble.stop();
  }
}

// Run 2: 5 % 503 with Retry-After, 2 % resets; Pebble's default 5 % nonce rejection stays on.
{
  const pebble = await startPebble({ authzReuse: 0 });
  const proxy = await startFaultProxy({ target: pebble });
  proxy.rule({
    name: '503',
    when: () => Math.random() < 0.05,
    action: reply(
      503,
      { 'retry-after': '1', 'content-type': 'application/problem+json' },
      {
        type: 'urn:ietf:params:acme:error:serverInternal',
        detail: 'injected: service unavailable',
      },
    ),
  });
  proxy.rule({ name: 'reset-before', when: () => Math.random() < 0.01, action: { reset: 'before' } });
  proxy.rule({
    name: 'reset-after',
    when: () => Math.random() < 0.0101, // of the requests the rules above left
    ifStatus: () => true,
    action: { reset: 'after' },
  });
  try {
    report('5 % 503 (Retry-After: 1) and 2 % connection resets', await run(pebble, proxy, 'fault'));
  } finally {
    await proxy.stop();
    await pebble.stop();
  }
}
