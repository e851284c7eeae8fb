import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SolverError } from '../../../src/errors/base.ts';
import { Http01WebrootSolver } from '../../../src/solvers/http01-webroot.ts';
import type { ChallengeContext } from '../../../src/solvers/solver.ts';

const signal = new AbortController().signal;
const GOOD = 'goodToken_0123456789-abcdefghijk';
let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'acmekit-webroot-'));
});
after(() => rm(base, { recursive: true, force: true }));

/** A fresh parent folder holding an empty webroot `root`. */
async function setup(): Promise<{ parent: string; root: string }> {
  const parent = await mkdtemp(join(base, 't-'));
  const root = join(parent, 'root');
  await mkdir(root);
  return { parent, root };
}

function fakeCtx(token: string, challenge: object = {}): ChallengeContext {
  return {
    identifier: { type: 'dns', value: 'example.com' },
    // descriptors, not spread: a getter in `challenge` must run when the solver reads it
    challenge: Object.defineProperties(
      { token, keyAuthorization: `${token}.thumbprint`, type: 'http-01' },
      Object.getOwnPropertyDescriptors(challenge),
    ),
    authorization: {},
  } as unknown as ChallengeContext;
}

/** Every path under dir, relative, sorted (symlinks listed, not followed). */
async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).sort();
}

const long = (s: string) => s + 'x'.repeat(20); // long enough that only the bad characters are wrong
const NAMED = ['../x', 'a/b', '%2e%2e', '..\\x', 'x\0y', '=', 'é', '\u{1F600}', '.', ' '];
const OTHER = ['a'.repeat(2048), `${'a'.repeat(22)}==`, 'tökenäöü-abcdefghijklmn', '', 'short'];
const BAD = [...NAMED, ...NAMED.map(long), ...OTHER];

test('D3: unusable tokens are refused before any filesystem call, naming the challenge', async () => {
  for (const token of BAD) {
    const { parent, root } = await setup();
    const solver = new Http01WebrootSolver({ root });
    await assert.rejects(
      solver.present(fakeCtx(token, { url: 'https://ca.test/chall/1' }), signal),
      (err: unknown) => {
        assert.ok(err instanceof SolverError, `${JSON.stringify(token.slice(0, 30))}: ${err}`);
        assert.equal(err.identifier, 'example.com');
        assert.match(err.message, /refusing challenge https:\/\/ca\.test\/chall\/1 with token/);
        assert.ok(err.message.length < 300, 'a 2 KB token is not echoed whole');
        return true;
      },
    );
    assert.deepEqual(
      await tree(parent),
      ['root'],
      `nothing created for ${JSON.stringify(token.slice(0, 30))}`,
    );
    await solver.cleanup(fakeCtx(token), signal); // cleanup of a refused token is a no-op
  }
});

test('D3: the token is checked before the root is even looked at', async () => {
  const { parent } = await setup();
  const solver = new Http01WebrootSolver({ root: join(parent, 'missing') });
  await assert.rejects(solver.present(fakeCtx(long('../')), signal), /token/);
  await assert.rejects(solver.present(fakeCtx(GOOD), signal), /webroot .*missing does not exist/);
  assert.deepEqual(await tree(parent), ['root'], 'the root itself is never created');
  await solver.cleanup(fakeCtx(GOOD), signal);
});

test('D3: a Challenge whose token getter throws becomes a SolverError', async () => {
  const { parent, root } = await setup();
  const challenge = {
    get token(): string {
      throw new Error('the CA sent an unusable token');
    },
    state: { token: '../../etc/passwd' },
  };
  const ctx = { ...fakeCtx(''), challenge } as unknown as ChallengeContext;
  await assert.rejects(new Http01WebrootSolver({ root }).present(ctx, signal), (err: unknown) => {
    assert.ok(err instanceof SolverError);
    assert.match(err.message, /etc\/passwd/);
    return true;
  });
  assert.deepEqual(await tree(parent), ['root']);
});

test('D5: present writes the key authorization (0644, no temp file left); cleanup leaves the root empty', async () => {
  const { root } = await setup();
  const solver = new Http01WebrootSolver({ root });
  await solver.present(fakeCtx(GOOD), signal);
  const file = join(root, '.well-known/acme-challenge', GOOD);
  assert.equal(await readFile(file, 'utf8'), `${GOOD}.thumbprint`);
  assert.equal((await stat(file)).mode & 0o777, 0o644);
  assert.equal((await stat(join(root, '.well-known/acme-challenge'))).mode & 0o777, 0o755);
  assert.deepEqual(await tree(root), [
    '.well-known',
    '.well-known/acme-challenge',
    `.well-known/acme-challenge/${GOOD}`,
  ]);
  await solver.cleanup(fakeCtx(GOOD), signal);
  assert.deepEqual(await tree(root), []);
  await solver.cleanup(fakeCtx(GOOD), signal); // repeated cleanup does not throw
  await solver.cleanup(fakeCtx('neverPresented_0123456789'), signal);
});

test('D5: a present that failed halfway is still cleaned up; folders stay while another token needs them', async () => {
  const { root } = await setup();
  const solver = new Http01WebrootSolver({ root });
  const other = 'otherToken_0123456789';
  await solver.present(fakeCtx(other), signal);
  const broken = fakeCtx(GOOD, {
    get keyAuthorization(): string {
      throw new Error('boom');
    },
  });
  await assert.rejects(
    solver.present(broken, signal),
    (err: unknown) => err instanceof SolverError && /boom/.test(err.message),
  );
  await solver.cleanup(broken, signal);
  assert.deepEqual(
    await tree(join(root, '.well-known/acme-challenge')),
    [other],
    'no temp file, the other token stays',
  );
  await solver.cleanup(fakeCtx(other), signal);
  assert.deepEqual(await tree(root), []);
});

test('D5: a 256-character token the file system cannot name fails cleanly and leaves nothing', async () => {
  const { root } = await setup();
  const solver = new Http01WebrootSolver({ root });
  const token = 'a'.repeat(256); // valid per RFC 8555 rules, one byte over NAME_MAX on common file systems
  await assert.rejects(solver.present(fakeCtx(token), signal), SolverError);
  await solver.cleanup(fakeCtx(token), signal);
  assert.deepEqual(await tree(root), []);
});

test('D5: pre-existing folders and files are kept; only ours go', async () => {
  const { root } = await setup();
  await mkdir(join(root, '.well-known'));
  await writeFile(join(root, '.well-known/security.txt'), 'x');
  const solver = new Http01WebrootSolver({ root });
  await solver.present(fakeCtx(GOOD), signal);
  await solver.cleanup(fakeCtx(GOOD), signal);
  assert.deepEqual(await tree(root), ['.well-known', '.well-known/security.txt']);

  // acme-challenge pre-exists too, with someone else's file: only our token file is removed.
  await mkdir(join(root, '.well-known/acme-challenge'));
  await writeFile(join(root, '.well-known/acme-challenge/theirs'), 'y');
  await solver.present(fakeCtx(GOOD), signal);
  await solver.cleanup(fakeCtx(GOOD), signal);
  assert.deepEqual(await tree(root), [
    '.well-known',
    '.well-known/acme-challenge',
    '.well-known/acme-challenge/theirs',
    '.well-known/security.txt',
  ]);
});

test('D5: a folder we created is kept when someone else put a file in it meanwhile', async () => {
  const { root } = await setup();
  const solver = new Http01WebrootSolver({ root });
  await solver.present(fakeCtx(GOOD), signal);
  await writeFile(join(root, '.well-known/security.txt'), 'x');
  await solver.cleanup(fakeCtx(GOOD), signal);
  assert.deepEqual(await tree(root), ['.well-known', '.well-known/security.txt']);
});

test('symlinks leading out of the webroot are refused; one inside is followed', async () => {
  for (const link of ['.well-known', '.well-known/acme-challenge']) {
    const { parent, root } = await setup();
    const outside = join(parent, 'outside');
    await mkdir(outside);
    if (link !== '.well-known') await mkdir(join(root, '.well-known'));
    await symlink(outside, join(root, link));
    const solver = new Http01WebrootSolver({ root });
    await assert.rejects(solver.present(fakeCtx(GOOD), signal), /outside the webroot/);
    await solver.cleanup(fakeCtx(GOOD), signal);
    assert.deepEqual(await tree(outside), [], `nothing written through ${link}`);
    assert.ok((await lstat(join(root, link))).isSymbolicLink(), 'the symlink itself is left alone');
  }
  const { root } = await setup();
  await mkdir(join(root, 'shared'));
  await symlink(join(root, 'shared'), join(root, '.well-known'));
  const solver = new Http01WebrootSolver({ root });
  await solver.present(fakeCtx(GOOD), signal);
  assert.ok((await stat(join(root, 'shared/acme-challenge', GOOD))).isFile());
  await solver.cleanup(fakeCtx(GOOD), signal);
  assert.deepEqual(await tree(root), ['.well-known', 'shared']);
});

test('a symlink at the token file name is refused and its target untouched', async () => {
  const { parent, root } = await setup();
  await writeFile(join(parent, 'victim'), 'keep');
  await mkdir(join(root, '.well-known/acme-challenge'), { recursive: true });
  await symlink(join(parent, 'victim'), join(root, '.well-known/acme-challenge', GOOD));
  const solver = new Http01WebrootSolver({ root });
  await assert.rejects(solver.present(fakeCtx(GOOD), signal), /symbolic link/);
  await solver.cleanup(fakeCtx(GOOD), signal);
  assert.equal(await readFile(join(parent, 'victim'), 'utf8'), 'keep');
  assert.ok((await lstat(join(root, '.well-known/acme-challenge', GOOD))).isSymbolicLink());
});
