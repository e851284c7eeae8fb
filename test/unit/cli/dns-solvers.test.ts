import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dnsReplayFrom, solverOrder } from '../../../src/cli/dns-solvers.ts';
import { Options } from '../../../src/cli/options.ts';
import { UsageError } from '../../../src/errors/usage.ts';

const options = (dns: string[]): Options => new Options({ options: { dns }, sources: {} } as never);

/** The provider the first covering solver belongs to, as the order code picks it. */
function providerFor(name: string, dns: string[]): string | undefined {
  const replay = dnsReplayFrom(options(dns));
  assert.ok(replay);
  const hit = solverOrder(replay.providers).find(
    ({ domain }) => domain === undefined || name === domain || name.endsWith(`.${domain}`),
  );
  return hit?.provider;
}

describe('--dns DOMAIN=PROVIDER', () => {
  it('sends a name to the provider of the longest covering domain, even when providers interleave', () => {
    const dns = ['example.com=cloudflare', 'deep.x.example.org=cloudflare', 'sub.example.com=route53'];
    assert.equal(providerFor('www.sub.example.com', dns), 'route53');
    assert.equal(providerFor('sub.example.com', dns), 'route53');
    assert.equal(providerFor('www.example.com', dns), 'cloudflare');
    assert.equal(providerFor('a.deep.x.example.org', dns), 'cloudflare');
  });

  it('puts a plain provider last, as the default for every other name', () => {
    const dns = ['rfc2136', 'example.com=cloudflare'];
    assert.equal(providerFor('www.example.com', dns), 'cloudflare');
    assert.equal(providerFor('other.test', dns), 'rfc2136');
  });

  it('strips a wildcard label and a trailing dot from the domain', () => {
    assert.equal(providerFor('a.example.com', ['*.example.com.=cloudflare', 'exec']), 'cloudflare');
  });

  it('refuses two plain providers and a malformed pair', () => {
    assert.throws(() => dnsReplayFrom(options(['cloudflare', 'route53'])), UsageError);
    assert.throws(() => dnsReplayFrom(options(['example.com='])), /expected DOMAIN=PROVIDER/);
  });
});
