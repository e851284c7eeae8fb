import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { InvalidInputError } from '../../../src/errors/index.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';
import { type FakeRegru, startFakeRegru } from '../../support/fake-cloud/regru.ts';
import { live, type RestDnsHarness, restDnsHarness, secret } from '../../support/rest-dns-harness.ts';

// The reg.ru provider on the REST layer, against a fake of the reg.ru API 2 zone methods.

const ZONE = 'example.test.';
const USER = 'acmekit-user';
const PASSWORD = secret('regru-password');
const WRONG = secret('regru-wrong');

let h: RestDnsHarness;
let fake: FakeRegru;
const good = { REGRU_USERNAME: USER, REGRU_PASSWORD: PASSWORD };

before(async () => {
  h = await restDnsHarness({
    code: 'regru',
    zone: ZONE,
    baseEnv: () => ({ REGRU_API_URL: fake.apiUrl }),
    canaries: [PASSWORD, WRONG],
  });
  fake = await startFakeRegru({ ca: h.ca, domains: ['example.test'], users: { [USER]: PASSWORD } });
});
after(async () => {
  await fake?.close();
  await h?.close();
});

dnsProviderContract({
  name: 'regru (fake API)',
  zone: ZONE,
  create: () => h.provider(good),
  createWithBadCredentials: () => h.provider({ ...good, REGRU_PASSWORD: WRONG }),
  values: (fqdn) => fake.values(fqdn),
  canaries: [PASSWORD, WRONG],
  logs: () => h.logs(),
});

test('regru: form POSTs with JSON input_data, add_txt and remove_record by content; "@" at the apex', async () => {
  const p = await h.provider(good);
  const apex = h.record(null);
  const from = fake.requests.length;
  await p.present(apex, live());
  const sent = fake.requests.slice(from);
  assert.deepEqual(
    sent.map((q) => q.path),
    ['/api/regru2/zone/get_resource_records', '/api/regru2/zone/add_txt'],
  );
  const form = new URLSearchParams(sent[1]!.body);
  assert.equal(form.get('username'), USER);
  assert.equal(form.get('password'), PASSWORD);
  assert.equal(form.get('input_format'), 'json');
  assert.deepEqual(JSON.parse(form.get('input_data')!), {
    domains: [{ dname: 'example.test' }],
    output_content_type: 'plain',
    subdomain: '@',
    text: apex.value,
  });
  await p.cleanup(apex, live());
  const removal = JSON.parse(new URLSearchParams(fake.requests.at(-1)!.body).get('input_data')!);
  assert.deepEqual(removal, {
    domains: [{ dname: 'example.test' }],
    output_content_type: 'plain',
    subdomain: '@',
    content: apex.value,
    record_type: 'TXT',
  });
  assert.deepEqual(await fake.values(ZONE), []);
});

test('regru: refused passwords, unknown domains and REGRU_TLS_CERT give actionable errors without secrets', async () => {
  const wrong = await h.failure(
    (await h.provider({ ...good, REGRU_PASSWORD: WRONG })).present(h.record(), live()),
  );
  assert.match(
    wrong.message,
    /reg\.ru refused to list .*PASSWORD_AUTH_FAILED.*check REGRU_USERNAME and REGRU_PASSWORD/,
  );
  const missing = await h.failure((await h.provider(good)).present(h.record('x', 'nothere.test.'), live()));
  assert.match(
    missing.message,
    /DOMAIN_NOT_FOUND.*check that nothere\.test is in the reg\.ru account of REGRU_USERNAME/,
  );
  await assert.rejects(
    createDnsProvider('regru', {
      env: { ...good, REGRU_TLS_CERT: '-----BEGIN CERTIFICATE-----', REGRU_TLS_KEY: 'k' },
    }),
    (e: unknown) => e instanceof InvalidInputError && /REGRU_TLS_CERT .* not supported/.test(e.message),
  );
});

test('regru: 429 and 5xx are retried, then reported with what to do', async () => {
  const p = await h.provider(good);
  fake.failNext({ status: 429, headers: { 'retry-after': '1' }, text: 'Too Many Requests' }, 2);
  const r = h.record();
  await p.present(r, live());
  assert.deepEqual(await fake.values(r.fqdn), [r.value]);
  await p.cleanup(r, live());
  fake.failNext({ status: 503, text: 'Service Unavailable' }, 4);
  const err = await h.failure(p.present(h.record(), live()));
  assert.equal(err.status, 503);
  assert.match(err.message, /reg\.ru API error while trying to .*try again in a few minutes/);
});
