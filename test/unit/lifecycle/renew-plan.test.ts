import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { normalizeIdentifiers } from '../../../src/acme/identifiers.ts';
import { systemClock } from '../../../src/internal/clock.ts';
import { certificateFiles } from '../../../src/lifecycle/certificate-files.ts';
import type { StoredCertificate } from '../../../src/lifecycle/decide.ts';
import { namesChange, planRenewal, type RenewalTarget, trialOf } from '../../../src/lifecycle/renew.ts';
import type { CertificateRecord } from '../../../src/storage/lego/certificate-record.ts';
import { MemoryStore } from '../../../src/storage/memory-store.ts';

const DAY = 86_400_000;
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** A stored certificate 10 days into its 90: not due by any rule. */
function stored(names: string[]): StoredCertificate {
  const now = Date.now();
  return {
    pem: '',
    names,
    serial: 'AB12',
    notBefore: new Date(now - 10 * DAY),
    notAfter: new Date(now + 80 * DAY),
    issuer: 'test',
    publicKey: ec.publicKey,
  };
}

const record: CertificateRecord = {
  domain: 'a.example',
  certUrl: 'u',
  certStableUrl: 'u',
  acmekit: {
    version: 1,
    identifiers: ['a.example'],
    server: 'https://ca.example/directory',
    keyType: 'ec256',
    challenge: { type: 'http-01' },
    profile: 'classic',
  },
};

function target(
  rule: RenewalTarget['namesRule'],
  order: Partial<RenewalTarget['order']> = {},
  names = ['a.example'],
) {
  return {
    files: certificateFiles('a.example'),
    identifiers: normalizeIdentifiers(names),
    namesRule: rule,
    order: { challenge: { type: 'http-01' as const }, keyType: 'ec256' as const, server: 's', ...order },
  } satisfies RenewalTarget;
}

const plan = (t: RenewalTarget & { fixedKey?: unknown }, names = ['a.example']) =>
  planRenewal(t, { store: new MemoryStore(), record, current: stored(names), clock: systemClock });

describe('what calls for a new certificate before it is due', () => {
  it('names: exact for run, covered for the server, ignored for renew', async () => {
    assert.equal(
      namesChange(['a.example'], ['a.example', 'b.example'], 'exact'),
      'names changed (+b.example)',
    );
    assert.equal(
      namesChange(['a.example', 'b.example'], ['a.example'], 'exact'),
      'names changed (-b.example)',
    );
    assert.equal(namesChange(['a.example', 'b.example'], ['a.example'], 'covered'), undefined);
    assert.equal(namesChange(['a.example'], ['A.example'], 'exact'), undefined);
    assert.equal(namesChange(['a.example'], ['b.example'], 'ignore'), undefined);
    const p = await plan(target('exact', {}, ['a.example', 'b.example']));
    assert.ok(p.due && p.trigger === 'changed');
    assert.equal(p.reason, 'names changed (+b.example)');
  });

  it('key type, profile and preferred chain asked for now, only under the exact rule', async () => {
    const p = await plan(
      target('exact', { keyType: 'rsa2048', profile: 'shortlived', preferredChain: 'X2' }),
    );
    assert.ok(p.due);
    assert.equal(
      p.reason,
      'key type changed (ec256 → rsa2048); profile changed (classic → shortlived); preferred chain changed (none → X2)',
    );
    assert.equal(
      (await plan(target('covered', { keyType: 'rsa2048' }))).due,
      false,
      'the server keeps its rule',
    );
    assert.equal((await plan(target('ignore', { keyType: 'rsa2048' }))).due, false, 'renew keeps its rule');
    assert.equal((await plan(target('exact', { profile: 'classic' }))).due, false, 'the same profile');
    assert.equal((await plan(target('exact'))).due, false, 'nothing given: nothing changed');
  });

  it('a given key or CSR key other than the certificate’s', async () => {
    const same = await plan({ ...target('exact'), fixedKey: ec.privateKey });
    assert.equal(same.due, false);
    const key = await plan({ ...target('exact'), fixedKey: other.privateKey });
    assert.ok(key.due);
    assert.equal(key.reason, 'key changed (another --private-key)');
    const csr = await plan({ ...target('exact', { csr: new Uint8Array([1]) }), fixedKey: other.publicKey });
    assert.ok(csr.due);
    assert.equal(csr.reason, 'CSR changed (another key)');
  });

  it('a trial orders what is not due and says what a real run would do', async () => {
    const idle = await plan(target('exact'));
    assert.ok(!idle.due);
    const trial = trialOf(idle);
    assert.equal(trial.due, true);
    assert.equal(trial.expectedSerial, 'AB12');
    assert.match(trial.reason, /^dry run; a real run would wait until \d{4}-\d\d-\d\dT/);
  });
});
