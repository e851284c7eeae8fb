import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { providersMarkdown, providerTable } from '../../../scripts/docs/dns-providers.ts';
import { dnsProviderCodes, loadDnsProviderDefinition } from '../../../src/dns/registry.ts';

const root = new URL('../../../', import.meta.url);

test('docs/dns-providers.md and the README table come from the definitions (run scripts/gen-dns-docs.ts)', async () => {
  const defs = await Promise.all(dnsProviderCodes().map((c) => loadDnsProviderDefinition(c)));
  assert.equal(await readFile(new URL('docs/dns-providers.md', root), 'utf8'), providersMarkdown(defs));
  const readme = await readFile(new URL('README.md', root), 'utf8');
  assert.ok(readme.includes(providerTable(defs)), 'README provider table is stale');
});

test('every provider declares what `dns help` needs, and secrets are marked', async () => {
  for (const code of dnsProviderCodes()) {
    const d = await loadDnsProviderDefinition(code);
    assert.equal(d.code, code);
    assert.ok(d.title && d.description.length > 20, `${code}: title and description`);
    assert.ok(d.example?.includes(`--dns ${code}`), `${code}: example uses --dns ${code}`);
    for (const v of d.env) {
      assert.match(v.name, /^[A-Z][A-Z0-9_]*$/, `${code}: ${v.name}`);
      if (
        /SECRET|TOKEN|PASSWORD|API_KEY|SECRET_KEY/.test(v.name) &&
        !/_ID$|KEY_ID|_NAME$|_FILE$/.test(v.name)
      ) {
        assert.ok(v.secret, `${code}: ${v.name} looks secret but is not marked secret`);
      }
    }
  }
});
