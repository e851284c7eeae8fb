import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyConfig, applyDefaults, applyEnvironment, parseArgs } from '../../../src/cli/parse-args.ts';
import { UsageError } from '../../../src/errors/usage.ts';

test('lego v4 spelling: global options before the command, renew --days --renew-hook', () => {
  const p = parseArgs([
    '--server',
    'https://ca.test/dir',
    '-a',
    '--path',
    '/tmp/x',
    '--email',
    'me@example.com',
    '--domains',
    'a.example',
    '--domains',
    '*.a.example',
    '--http',
    '--http.port',
    ':5002',
    'renew',
    '--days',
    '7',
    '--renew-hook',
    'nginx -s reload',
  ]);
  assert.deepEqual(p.command, ['renew']);
  assert.equal(p.options.acceptTos, true);
  assert.deepEqual(p.options.domains, ['a.example', '*.a.example']);
  assert.equal(p.options.httpAddress, ':5002');
  assert.equal(p.options.renewDays, 7);
  assert.equal(p.options.deployHook, 'nginx -s reload');
});

test('lego v5 spelling: options after the command give the same options', () => {
  const v5 = parseArgs([
    'run',
    '--server',
    'https://ca.test/dir',
    '--accept-tos',
    '--email',
    'me@example.com',
    '-d',
    'a.example',
    '--http',
    '--http.address',
    ':5002',
    '--renew-days',
    '7',
    '--deploy-hook',
    'nginx -s reload',
    '--eab.kid',
    'k',
    '--eab.hmac',
    'h',
  ]);
  const v4 = parseArgs([
    '--server',
    'https://ca.test/dir',
    '--accept-tos',
    '--email',
    'me@example.com',
    '-d',
    'a.example',
    '--http',
    '--http.port',
    ':5002',
    '--kid',
    'k',
    '--hmac',
    'h',
    'run',
    '--days',
    '7',
    '--run-hook',
    'nginx -s reload',
  ]);
  assert.deepEqual(v5.options, v4.options);
});

test('v5 subcommands are recognised', () => {
  assert.deepEqual(parseArgs(['certificates', 'list', '--json']).command, ['certificates', 'list']);
  assert.deepEqual(parseArgs(['accounts', 'keyrollover']).command, ['accounts', 'keyrollover']);
});

test('the same option in both spellings with different values is refused', () => {
  assert.throws(
    () => parseArgs(['renew', '--days', '30', '--renew-days', '7']),
    (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.match(err.message, /--days 30 and --renew-days 7/);
      return true;
    },
  );
  assert.doesNotThrow(() => parseArgs(['renew', '--days', '7', '--renew-days', '7']));
});

test('unknown options and commands are refused with a suggestion', () => {
  assert.throws(
    () => parseArgs(['--domian', 'x', 'run']),
    /unknown option --domian; did you mean --domains\?/,
  );
  assert.throws(() => parseArgs(['obtain']), /unknown command "obtain"/);
  assert.throws(() => parseArgs(['run', '--days']), /--days needs a value/);
  assert.throws(() => parseArgs(['renew', '--days', 'soon']), /needs a number/);
});

test('a --domains value starting with "-" is a name (refused later as invalid) unless it is a known option', () => {
  assert.deepEqual(parseArgs(['run', '-d', '-lead.example.test']).options.domains, ['-lead.example.test']);
  assert.deepEqual(parseArgs(['--domains', '--x.example', 'run']).options.domains, ['--x.example']);
  assert.deepEqual(parseArgs(['-d', '-a.example,b.example', 'run']).options.domains, [
    '-a.example',
    'b.example',
  ]);
  // Known options still mean a missing value: -d followed by a flag is a forgotten name.
  for (const next of ['--http', '-m', '--email=a@b.example', '--', '-a']) {
    assert.throws(() => parseArgs(['run', '-d', next, 'x']), /-d needs a value \(NAME\)/, next);
  }
  // After `list`, -a is --accounts: still an option there.
  assert.throws(() => parseArgs(['list', '-d', '-a']), /-d needs a value/);
  // Other options keep refusing a dashed value.
  assert.throws(() => parseArgs(['run', '--email', '-lead@example.test']), /--email needs a value/);
});

test('lego splits --domains on commas', () => {
  assert.deepEqual(parseArgs(['-d', 'a.example,b.example', 'run']).options.domains, [
    'a.example',
    'b.example',
  ]);
});

test('environment fills what flags did not set; ours before lego names; flags win', () => {
  const p = parseArgs(['run', '--email', 'flag@example.com']);
  applyEnvironment(p, {
    LEGO_PATH: '/lego',
    ACMEKIT_PATH: '/ours',
    LEGO_EMAIL: 'env@example.com',
    LEGO_SERVER: 'https://x/dir',
  });
  assert.equal(p.options.path, '/ours');
  assert.equal(p.options.email, 'flag@example.com');
  assert.equal(p.options.server, 'https://x/dir');
  assert.equal(p.sources.server, 'environment variable LEGO_SERVER');
});

test('config fills what flags and environment did not; unknown keys are refused; defaults last', () => {
  const p = parseArgs(['run', '--key-type', 'rsa2048']);
  applyConfig(p, { keyType: 'ec384', domains: ['a.example'], renewDays: '10' }, 'acmekit.yaml');
  applyDefaults(p);
  assert.equal(p.options.keyType, 'rsa2048');
  assert.deepEqual(p.options.domains, ['a.example']);
  assert.equal(p.options.renewDays, 10);
  assert.equal(p.options.path, './.lego');
  assert.throws(
    () => applyConfig(parseArgs(['run']), { domian: 'x' }, 'acmekit.yaml'),
    /acmekit.yaml: unknown setting "domian"/,
  );
});

test('every option can come from ACMEKIT_<NAME>', () => {
  const p = parseArgs(['renew']);
  applyEnvironment(p, {
    ACMEKIT_RENEW_DAYS: '12',
    ACMEKIT_DEPLOY_HOOK: 'reload',
    ACMEKIT_NO_RANDOM_SLEEP: 'true',
  });
  assert.equal(p.options.renewDays, 12);
  assert.equal(p.options.deployHook, 'reload');
  assert.equal(p.options.noRandomSleep, true);
});
