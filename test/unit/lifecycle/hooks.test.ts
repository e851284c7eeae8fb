import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AcmekitError, InvalidInputError } from '../../../src/errors/base.ts';
import { HookError } from '../../../src/errors/hook.ts';
import { hookEnvironment, runHook } from '../../../src/lifecycle/hooks.ts';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acmekit-hooks-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Single-quotes a path for the test's own command lines (the hook's data never goes there). */
const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** Alive and not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  if (existsSync('/proc/self/stat')) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function pidFrom(file: string): Promise<number> {
  const pid = Number((await readFile(file, 'utf8')).trim());
  assert.ok(Number.isInteger(pid) && pid > 0, `pid file ${file}`);
  return pid;
}

describe('G2: hook data arrives only through the environment', () => {
  const hostile = [
    '*.bücher.example',
    'xn--bcher-kva.example',
    'name with spaces.example',
    '$(touch PWNED).example',
    'a;touch PWNED;.example',
    '`touch PWNED`.example',
    `it's "quoted" & |piped| > redirected`,
  ];

  it('names with IDN, spaces, $(), ;, backticks and quotes arrive verbatim and nothing runs', async () => {
    const work = join(dir, 'g2');
    await mkdir(work);
    const recorder = join(work, 'record.mjs');
    await writeFile(
      recorder,
      `import { writeFileSync } from 'node:fs';
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(ACMEKIT|LEGO)_/.test(k)));
writeFileSync(process.env.RECORD_OUT, JSON.stringify({ argv: process.argv.slice(2), env }));
`,
    );
    const names = hostile.map((n) => n.replaceAll('PWNED', join(work, 'pwned')));
    const certDir = join(work, 'certs $(touch pwned-dir) dir');
    const env = hookEnvironment({
      domain: names[3]!,
      certPath: join(certDir, `${names[5]}.crt`),
      keyPath: join(certDir, `${names[4]}.key`),
      issuerPath: join(certDir, `${names[6]}.issuer.crt`),
      renewedDomains: names,
      extra: { RECORD_OUT: join(work, 'record.json') },
    });
    const plain = `printf '%s\\n' "$ACMEKIT_CERT_DOMAIN" > out-quoted; echo $ACMEKIT_RENEWED_DOMAINS $LEGO_CERT_PATH > out-unquoted`;
    const commands = [`${q(process.execPath)} ${q(recorder)} only-this-arg`, plain];
    for (const command of commands) {
      const r = await runHook({ command, env, cwd: work, timeoutMs: 10_000 });
      assert.equal(r.exitCode, 0, r.stderr);
    }
    const recorded = JSON.parse(await readFile(join(work, 'record.json'), 'utf8'));
    assert.deepEqual(recorded.argv, ['only-this-arg']);
    const { RECORD_OUT: _, ...expected } = env;
    assert.deepEqual(recorded.env, expected);
    assert.equal(recorded.env.ACMEKIT_RENEWED_DOMAINS, names.join(' '));
    assert.equal(recorded.env.LEGO_CERT_DOMAIN, names[3]);
    assert.equal(await readFile(join(work, 'out-quoted'), 'utf8'), `${names[3]}\n`);
    // Unquoted, the shell splits words, but expansion never runs a command hidden in a value.
    assert.match(await readFile(join(work, 'out-unquoted'), 'utf8'), /\$\(touch .*pwned\)\.example/);
    const files = await readdir(work);
    assert.deepEqual(
      files.filter((f) => f.includes('pwned')),
      [],
      'nothing was executed from the data',
    );
  });

  it('hookEnvironment sets acmekit, lego v4 and lego v5 names', () => {
    const env = hookEnvironment({
      domain: '*.example.com',
      certPath: '/p/certificates/_.example.com.crt',
      keyPath: '/p/certificates/_.example.com.key',
      issuerPath: '/p/certificates/_.example.com.issuer.crt',
      pemPath: '/p/certificates/_.example.com.pem',
      renewedDomains: ['*.example.com', 'example.com'],
      accountEmail: 'admin@example.com',
      keyType: 'ec256',
      server: 'https://ca.example/dir',
    });
    assert.deepEqual(env, {
      ACMEKIT_CERT_DOMAIN: '*.example.com',
      ACMEKIT_CERT_PATH: '/p/certificates/_.example.com.crt',
      ACMEKIT_CERT_KEY_PATH: '/p/certificates/_.example.com.key',
      ACMEKIT_CERT_FULLCHAIN_PATH: '/p/certificates/_.example.com.crt',
      ACMEKIT_CERT_ISSUER_PATH: '/p/certificates/_.example.com.issuer.crt',
      ACMEKIT_CERT_PEM_PATH: '/p/certificates/_.example.com.pem',
      ACMEKIT_RENEWED_DOMAINS: '*.example.com example.com',
      LEGO_CERT_DOMAIN: '*.example.com',
      LEGO_CERT_PATH: '/p/certificates/_.example.com.crt',
      LEGO_CERT_KEY_PATH: '/p/certificates/_.example.com.key',
      LEGO_ISSUER_CERT_PATH: '/p/certificates/_.example.com.issuer.crt',
      LEGO_CERT_PEM_PATH: '/p/certificates/_.example.com.pem',
      LEGO_ACCOUNT_EMAIL: 'admin@example.com',
      LEGO_HOOK_CERT_NAME: '*.example.com',
      LEGO_HOOK_CERT_NAME_SANITIZED: '_.example.com',
      LEGO_HOOK_CERT_DOMAINS: '*.example.com,example.com',
      LEGO_HOOK_CERT_KEY_TYPE: 'ec256',
      LEGO_HOOK_CERT_PATH: '/p/certificates/_.example.com.crt',
      LEGO_HOOK_CERT_KEY_PATH: '/p/certificates/_.example.com.key',
      LEGO_HOOK_ISSUER_CERT_PATH: '/p/certificates/_.example.com.issuer.crt',
      LEGO_HOOK_CERT_PEM_PATH: '/p/certificates/_.example.com.pem',
      LEGO_HOOK_ACCOUNT_EMAIL: 'admin@example.com',
      LEGO_HOOK_ACCOUNT_SERVER: 'https://ca.example/dir',
    });
  });

  it('shell: false splits words as lego does and runs no shell at all', async () => {
    const r = await runHook({
      command: `echo $(touch ${join(dir, 'pwned-noshell')})`,
      env: {},
      shell: false,
    });
    assert.equal(r.stdout, `$(touch ${join(dir, 'pwned-noshell')})\n`);
    assert.equal(existsSync(join(dir, 'pwned-noshell')), false);
  });
});

describe('runHook: timeouts, failures and output', () => {
  it('a timeout kills the whole process group, background children included', async () => {
    const pidFile = join(dir, 'bg.pid');
    const command = `sleep 100 & echo $! > ${q(pidFile)}; echo waiting; sleep 100`;
    const r = await runHook({ command, env: {}, timeoutMs: 300, killGraceMs: 500 });
    assert.equal(r.timedOut, true);
    assert.equal(r.exitCode, null);
    assert.equal(r.signal, 'SIGTERM');
    assert.equal(r.stdout, 'waiting\n');
    assert.ok(r.durationMs < 5_000, `${r.durationMs} ms`);
    assert.equal(alive(await pidFrom(pidFile)), false, 'the background sleep is gone');
  });

  it('a group that ignores SIGTERM gets SIGKILL after the grace period', async () => {
    const pidFile = join(dir, 'stubborn.pid');
    const command = `trap '' TERM; sleep 100 & echo $! > ${q(pidFile)}; sleep 100`;
    const r = await runHook({ command, env: {}, timeoutMs: 200, killGraceMs: 200 });
    assert.deepEqual([r.timedOut, r.signal], [true, 'SIGKILL']);
    assert.equal(alive(await pidFrom(pidFile)), false);
    assert.match(new HookError('deploy hook', command, r).message, /^deploy hook timed out after 0\.\d s/);
  });

  it('aborting kills the group and rejects with the signal reason', async () => {
    const pidFile = join(dir, 'abort.pid');
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('shutting down')), 200);
    const command = `sleep 100 & echo $! > ${q(pidFile)}; sleep 100`;
    await assert.rejects(runHook({ command, env: {}, signal: ac.signal, killGraceMs: 500 }), /shutting down/);
    assert.equal(alive(await pidFrom(pidFile)), false);
    await assert.rejects(runHook({ command: 'true', env: {}, signal: ac.signal }), /shutting down/);
  });

  it('a non-zero exit is reported with the output tail; HookError says how to test the hook', async () => {
    const command = 'echo to-stdout; for i in $(seq 1 3000); do echo "line $i" >&2; done; exit 7';
    const r = await runHook({ command, env: {} });
    assert.deepEqual([r.exitCode, r.signal, r.timedOut], [7, null, false]);
    assert.equal(r.stdout, 'to-stdout\n');
    const err = new HookError('deploy hook', command, r);
    assert.ok(err instanceof AcmekitError);
    assert.equal(err.code, 'ERR_HOOK');
    assert.equal(err.exitCode, 7);
    assert.match(err.message, /^deploy hook exited with code 7: echo to-stdout;/);
    assert.match(err.message, /line 3000\n---/);
    assert.doesNotMatch(err.message, /line 1\n/);
    assert.ok(err.outputTail.length <= 2_001);
    assert.match(err.message, /To test it, run it as acmekit does: env .*\/bin\/sh -c 'echo to-stdout;/);
    const env = hookEnvironment({
      domain: "it's.example",
      certPath: '/p/a.crt',
      keyPath: '/k',
      issuerPath: '/i',
    });
    const withEnv = new HookError('deploy hook', 'reload', r, { env });
    assert.match(
      withEnv.message,
      /env ACMEKIT_CERT_DOMAIN='it'\\''s\.example' ACMEKIT_CERT_PATH='\/p\/a\.crt' /,
    );
    assert.doesNotMatch(withEnv.message, /LEGO_/);
  });

  it('F2: secret-looking environment values are redacted from the error', async (t) => {
    process.env.ACMEKIT_TEST_API_TOKEN = 'very-secret-token-value';
    t.after(() => delete process.env.ACMEKIT_TEST_API_TOKEN);
    const command = 'echo "token is $ACMEKIT_TEST_API_TOKEN" >&2; exit 1';
    const err = new HookError('post-hook', command, await runHook({ command, env: {} }));
    assert.doesNotMatch(err.message, /very-secret-token-value/);
    assert.match(err.message, /token is \[redacted\]/);
  });

  it('output is bounded: the last 64 KiB of each stream by default', async () => {
    const command = `head -c 1000000 /dev/zero | tr '\\0' a; echo END; head -c 300000 /dev/zero | tr '\\0' b >&2`;
    const r = await runHook({ command, env: {} });
    assert.equal(r.exitCode, 0);
    assert.equal(Buffer.byteLength(r.stdout), 64 * 1024);
    assert.ok(r.stdout.endsWith('aaaEND\n'));
    assert.equal(r.stderr, 'b'.repeat(64 * 1024));
    const small = await runHook({
      command: `printf 'x%.0s' $(seq 1 10); printf 'ü%.0s' $(seq 1 500)`,
      env: {},
      maxOutputBytes: 101,
    });
    assert.equal(small.stdout, 'ü'.repeat(50), 'a character cut in half at the start is dropped');
  });

  it('a background child holding the output pipe does not keep a finished hook waiting', async () => {
    const pidFile = join(dir, 'daemon.pid');
    const r = await runHook({ command: `sleep 100 & echo $! > ${q(pidFile)}; echo done`, env: {} });
    const pid = await pidFrom(pidFile);
    process.kill(pid, 'SIGTERM'); // our own leftover: a hook may start a daemon on purpose
    assert.deepEqual([r.exitCode, r.stdout, r.timedOut], [0, 'done\n', false]);
    assert.ok(r.durationMs < 3_000, `${r.durationMs} ms`);
  });

  it('a hook that cannot start is reported, not thrown', async () => {
    const r = await runHook({ command: 'true', env: {}, cwd: join(dir, 'missing') });
    assert.deepEqual([r.exitCode, r.signal], [null, null]);
    assert.match(r.stderr, /could not start the hook \(in .*missing\)/);
    assert.match(new HookError('pre-hook', 'true', r).message, /^pre-hook could not start: true/);
    await assert.rejects(runHook({ command: '  ', env: {} }), InvalidInputError);
  });
});
