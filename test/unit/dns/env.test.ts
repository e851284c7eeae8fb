import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ProviderEnv } from '../../../src/dns/env.ts';
import { createDnsProvider, dnsProviderCodes, loadDnsProviderDefinition } from '../../../src/dns/registry.ts';
import { InvalidInputError } from '../../../src/errors/index.ts';

const specs = [
  { name: 'X_TOKEN', fallbacks: ['OLD_TOKEN'], description: 'token', required: true, secret: true },
  { name: 'X_WAIT', description: 'seconds' },
  { name: 'X_FLAG', description: 'flag' },
];

describe('ProviderEnv', () => {
  const dir = mkdtemp(join(tmpdir(), 'acmekit-env-'));
  after(async () => rm(await dir, { recursive: true, force: true }));

  it('reads the variable, then its fallbacks; trims; empty counts as unset', () => {
    assert.equal(new ProviderEnv('x', specs, { X_TOKEN: ' a ' }).required('X_TOKEN'), 'a');
    assert.equal(new ProviderEnv('x', specs, { X_TOKEN: '', OLD_TOKEN: 'b' }).required('X_TOKEN'), 'b');
  });

  it('reads <NAME>_FILE, and says which file when it cannot', async () => {
    const file = join(await dir, 'token');
    await writeFile(file, 'from-file\n');
    assert.equal(
      new ProviderEnv('x', specs, { X_TOKEN_FILE: file }).secret('X_TOKEN')?.reveal(),
      'from-file',
    );
    const missing = join(await dir, 'nope');
    assert.throws(
      () => new ProviderEnv('x', specs, { X_TOKEN_FILE: missing }).required('X_TOKEN'),
      (e: Error) =>
        e instanceof InvalidInputError && e.message.includes(missing) && e.message.includes('ENOENT'),
    );
  });

  it('a missing required variable names it and its fallbacks and the _FILE form', () => {
    assert.throws(
      () => new ProviderEnv('x', specs, {}).required('X_TOKEN'),
      /x: X_TOKEN or OLD_TOKEN is not set \(set it, or X_TOKEN_FILE/,
    );
  });

  it('parses durations as lego seconds or with units, and refuses junk', () => {
    const env = (v: string) => new ProviderEnv('x', specs, { X_WAIT: v });
    assert.equal(env('120').durationMs('X_WAIT', 1), 120_000);
    assert.equal(env('90s').durationMs('X_WAIT', 1), 90_000);
    assert.equal(env('2m').durationMs('X_WAIT', 1), 120_000);
    assert.equal(env('250ms').durationMs('X_WAIT', 1), 250);
    assert.equal(new ProviderEnv('x', specs, {}).durationMs('X_WAIT', 7), 7);
    assert.throws(() => env('soon').durationMs('X_WAIT', 1), /X_WAIT must be a number of seconds.*"soon"/);
  });

  it('never shows the value of a secret in an error', () => {
    assert.throws(
      () => new ProviderEnv('x', specs, { X_TOKEN: 'canary-123' }).int('X_TOKEN', 1),
      (e: Error) => !e.message.includes('canary-123') && !JSON.stringify(e).includes('canary-123'),
    );
  });

  it('refuses to read a variable the provider did not declare (it would be missing from help)', () => {
    assert.throws(() => new ProviderEnv('x', specs, {}).string('Y'), /not declared/);
  });
});

describe('DNS provider registry', () => {
  it('knows the built-in providers and the dnsupdate alias', async () => {
    assert.ok(dnsProviderCodes().includes('rfc2136'));
    assert.equal((await loadDnsProviderDefinition('DNSUPDATE')).code, 'rfc2136');
  });

  it('an unknown provider name lists the known ones', async () => {
    await assert.rejects(loadDnsProviderDefinition('cloudflair'), (e: Error) => {
      assert.ok(e instanceof InvalidInputError);
      assert.match(e.message, /unknown DNS provider "cloudflair"; known providers: .*cloudflare.*exec/);
      return true;
    });
  });

  it('reads the standard settings from the provider prefix', async () => {
    const loaded = await createDnsProvider('exec', {
      env: {
        EXEC_PATH: '/bin/true',
        EXEC_PROPAGATION_TIMEOUT: '30',
        EXEC_POLLING_INTERVAL: '1',
        EXEC_TTL: '60',
      },
    });
    assert.deepEqual(
      { ...loaded.settings },
      { ttl: 60, propagationTimeoutMs: 30_000, pollingIntervalMs: 1000, httpTimeoutMs: 30_000 },
    );
  });
});
