// Writes docs/dns-providers.md and the provider table in README.md from the provider definitions;
// test/unit/dns/docs.test.ts checks both are current.
import { readFile, writeFile } from 'node:fs/promises';
import { dnsProviderCodes, loadDnsProviderDefinition } from '../src/dns/registry.ts';
import { providersMarkdown, providerTable } from './docs/dns-providers.ts';

const defs = await Promise.all(dnsProviderCodes().map((c) => loadDnsProviderDefinition(c)));
await writeFile(new URL('../docs/dns-providers.md', import.meta.url), providersMarkdown(defs));
const readmeUrl = new URL('../README.md', import.meta.url);
const readme = await readFile(readmeUrl, 'utf8');
const replaced = readme.replace(
  /(<!-- dns-providers:start -->\n)[\s\S]*?(<!-- dns-providers:end -->)/,
  `$1${providerTable(defs)}\n$2`,
);
if (replaced === readme && !readme.includes(providerTable(defs))) {
  throw new Error('README.md has no <!-- dns-providers:start --> / <!-- dns-providers:end --> markers');
}
await writeFile(readmeUrl, replaced);
