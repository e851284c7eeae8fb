import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DnsProvider, TxtRecord } from '../../src/dns/provider.ts';
import { relativeName } from '../../src/dns/provider.ts';
import { AcmekitError, DnsProviderError } from '../../src/errors/index.ts';

export interface DnsProviderContractOptions {
  /** Prefix of every test name, e.g. "rfc2136 on BIND". */
  readonly name: string;
  /** A zone the provider may write, absolute ("example.test."). */
  readonly zone: string;
  /** A provider with good credentials. */
  create(): DnsProvider | Promise<DnsProvider>;
  /** The TXT values the backing server (real or fake) holds at an absolute name right now. */
  values(fqdn: string): Promise<string[]>;
  /** A provider whose credentials the server refuses; omit where credentials do not apply (exec). */
  createWithBadCredentials?(): DnsProvider | Promise<DnsProvider>;
  /** Secret values that must never appear in an error message or in `logs()`. */
  readonly canaries?: readonly string[];
  /** Everything the provider logged so far, as text. */
  logs?(): string;
  /**
   * Set for a service that keeps one TXT value per name (DuckDNS, Hurricane Electric's dynamic TXT): the
   * test of two values at one name does not apply and is skipped; instead the provider must declare
   * `sequentialIntervalMs`, so the order flow never asks it for two values at once.
   */
  readonly oneValuePerName?: boolean;
  /**
   * The host label of each test's record, `_acme-challenge.<label>.<zone>` (default: a fresh one), for a
   * service where a record must exist before it can be written (one set up per label beforehand).
   */
  label?(): string;
  /**
   * The service cannot delete a value (acme-dns keeps the latest two per name and pushes the older out
   * on the next update): cleanup must still succeed and leave every other value, but the value it was
   * given may stay.
   */
  readonly cleanupLeavesValues?: boolean;
}

let counter = 0;
function record(zone: string, label: string, value: string): TxtRecord {
  const fqdn = `_acme-challenge.${label}.${zone}`;
  return { fqdn, zone, name: relativeName(fqdn, zone), value, ttl: 60 };
}
function value(): string {
  counter += 1;
  return `v${String(counter).padStart(4, '0')}${'x'.repeat(38)}`.slice(0, 43);
}
const live = (): AbortSignal => new AbortController().signal;

/** The conformance suite every DNS provider passes, against its fake API or the real server. */
export function dnsProviderContract(o: DnsProviderContractOptions): void {
  const label = (): string => o.label?.() ?? `c${Date.now().toString(36)}${(counter++).toString(36)}`;
  const oneValue = o.oneValuePerName ? 'the service keeps one TXT value per name' : false;

  test(`${o.name}: two values at one name both present; cleanup of one leaves the other`, {
    skip: oneValue,
  }, async () => {
    const p = await o.create();
    const host = label();
    const a = record(o.zone, host, value());
    const b = record(o.zone, host, value());
    await p.present(a, live());
    await p.present(b, live());
    assert.deepEqual((await o.values(a.fqdn)).sort(), [a.value, b.value].sort());
    await p.cleanup(a, live());
    if (o.cleanupLeavesValues) assert.ok((await o.values(a.fqdn)).includes(b.value));
    else assert.deepEqual(await o.values(a.fqdn), [b.value]);
    await p.cleanup(b, live());
    if (!o.cleanupLeavesValues) assert.deepEqual(await o.values(a.fqdn), []);
  });

  // What one certificate for example.com and *.example.com does: both values at one name at once.
  test(`${o.name}: two values presented at once at one name both stay; both cleaned up at once`, {
    skip: oneValue,
  }, async () => {
    const p = await o.create();
    const host = label();
    const a = record(o.zone, host, value());
    const b = record(o.zone, host, value());
    await Promise.all([p.present(a, live()), p.present(b, live())]);
    assert.deepEqual((await o.values(a.fqdn)).sort(), [a.value, b.value].sort());
    await Promise.all([p.cleanup(a, live()), p.cleanup(b, live())]);
    if (!o.cleanupLeavesValues) assert.deepEqual(await o.values(a.fqdn), []);
  });

  if (o.oneValuePerName) {
    test(`${o.name}: one value per name: the provider asks for its challenges one after another`, async () => {
      const p = await o.create();
      assert.equal(typeof p.sequentialIntervalMs, 'number', 'sequentialIntervalMs is set');
      assert.ok(p.sequentialIntervalMs! >= 0);
    });
  }

  test(`${o.name}: presenting the same value twice keeps one copy; cleanup removes it`, async () => {
    const p = await o.create();
    const r = record(o.zone, label(), value());
    await p.present(r, live());
    await p.present(r, live());
    assert.deepEqual(await o.values(r.fqdn), [r.value]);
    await p.cleanup(r, live());
    if (!o.cleanupLeavesValues) assert.deepEqual(await o.values(r.fqdn), []);
  });

  test(`${o.name}: cleanup by a fresh instance (after a restart) and cleanup without present do not throw`, async () => {
    const r = record(o.zone, label(), value());
    await (await o.create()).present(r, live());
    await (await o.create()).cleanup(r, live());
    if (!o.cleanupLeavesValues) assert.deepEqual(await o.values(r.fqdn), []);
    await (await o.create()).cleanup(record(o.zone, label(), value()), live());
  });

  test(`${o.name}: an aborted signal rejects promptly`, async () => {
    const p = await o.create();
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    const started = Date.now();
    await assert.rejects(p.present(record(o.zone, label(), value()), ac.signal));
    assert.ok(Date.now() - started < 2000, 'rejected within 2 s');
  });

  if (o.createWithBadCredentials) {
    const createBad = o.createWithBadCredentials;
    test(`D10: ${o.name}: refused credentials give DnsProviderError with an actionable message, no secret`, async () => {
      const p = await createBad();
      const err = await p.present(record(o.zone, label(), value()), live()).then(
        () => assert.fail('present with bad credentials succeeded'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof DnsProviderError, `got ${String(err)}`);
      assert.equal(err.operation, 'present');
      assert.match(
        err.message,
        /credential|auth|key|token|signature|denied|forbidden|refused|BADKEY|BADSIG|NOTAUTH/i,
      );
      assertNoCanary(o, err);
    });
  }

  const { canaries, logs } = o;
  if (canaries?.length && logs) {
    test(`F1: ${o.name}: no canary secret in the logs of a present and cleanup`, async () => {
      const p = await o.create();
      const r = record(o.zone, label(), value());
      await p.present(r, live());
      await p.cleanup(r, live());
      assert.ok(logs().length > 0, 'the provider logged nothing, so this test would check nothing');
      for (const c of canaries) assert.ok(!logs().includes(c), 'canary found in logs');
    });
  }
}

function assertNoCanary(o: DnsProviderContractOptions, err: unknown): void {
  const seen = new Set<unknown>();
  const texts: string[] = [];
  for (let e: unknown = err; e && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    texts.push(String(e), (e as Error).stack ?? '', JSON.stringify(e) ?? '');
    if (e instanceof AcmekitError) texts.push(e.message);
  }
  for (const c of o.canaries ?? []) {
    for (const t of texts) assert.ok(!t.includes(c), 'canary found in an error');
  }
}
