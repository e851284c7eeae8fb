import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDnsProvider } from '../../../src/dns/registry.ts';
import { DnsProviderError, InvalidInputError } from '../../../src/errors/index.ts';
import { dnsProviderContract } from '../../contract/dns-provider.contract.ts';

// A tiny "DNS server" kept in a text file, driven the way a user's script would be.
const SCRIPT = `#!/bin/sh
db="$(dirname "$0")/records.txt"
touch "$db"
case "$1" in
  present) grep -qxF "$2 $3" "$db" || echo "$2 $3" >> "$db" ;;
  cleanup) grep -vxF "$2 $3" "$db" > "$db.new"; mv "$db.new" "$db" ;;
  *) echo "unexpected $*" >&2; exit 9 ;;
esac
`;

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acmekit-exec-'));
  await writeFile(join(dir, 'dns.sh'), SCRIPT);
  await chmod(join(dir, 'dns.sh'), 0o755);
});
after(() => rm(dir, { recursive: true, force: true }));

const create = async (env: Record<string, string> = {}) =>
  (await createDnsProvider('exec', { env: { EXEC_PATH: join(dir, 'dns.sh'), ...env } })).provider;

dnsProviderContract({
  name: 'exec with a script',
  zone: 'example.test.',
  create: () => create(),
  async values(fqdn) {
    const text = await readFile(join(dir, 'records.txt'), 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((l) => l.startsWith(`${fqdn} `))
      .map((l) => l.slice(fqdn.length + 1));
  },
});

const record = {
  fqdn: '_acme-challenge.a.example.test.',
  zone: 'example.test.',
  name: '_acme-challenge.a',
  value: 'v'.repeat(43),
  ttl: 60,
};
const live = () => new AbortController().signal;

describe('exec provider', () => {
  it('a failing program gives DnsProviderError with its status and last stderr line', async () => {
    const failing = join(dir, 'fail.sh');
    await writeFile(failing, '#!/bin/sh\necho "zone is locked" >&2\nexit 3\n');
    await chmod(failing, 0o755);
    const p = await create({ EXEC_PATH: failing });
    await assert.rejects(p.present(record, live()), (e: Error) => {
      assert.ok(e instanceof DnsProviderError);
      assert.equal(e.status, 3);
      assert.match(
        e.message,
        /^exec: present: .*fail\.sh present _acme-challenge\.a\.example\.test\. exited with status 3: zone is locked/,
      );
      return true;
    });
  });

  it('kills a program that runs past EXEC_TIMEOUT', async () => {
    const slow = join(dir, 'slow.sh');
    await writeFile(slow, '#!/bin/sh\nsleep 30\n');
    await chmod(slow, 0o755);
    const p = await create({ EXEC_PATH: slow, EXEC_TIMEOUT: '300ms' });
    await assert.rejects(
      p.present(record, live()),
      /did not finish within .* \(EXEC_TIMEOUT\) and was killed/,
    );
  });

  it('RAW mode passes domain, --, token and key authorization', async () => {
    const out = join(dir, 'raw-args.txt');
    const raw = join(dir, 'raw.sh');
    await writeFile(raw, `#!/bin/sh\necho "$@" > ${out}\n`);
    await chmod(raw, 0o755);
    const p = await create({ EXEC_PATH: raw, EXEC_MODE: 'raw' });
    await p.present(
      { ...record, acme: { domain: 'a.example.test.', token: '-tok', keyAuthorization: '-tok.thumb' } },
      live(),
    );
    assert.equal((await readFile(out, 'utf8')).trim(), 'present a.example.test. -- -tok -tok.thumb');
  });

  it('refuses a missing EXEC_PATH and an unknown EXEC_MODE before running anything', async () => {
    await assert.rejects(
      createDnsProvider('exec', { env: {} }),
      (e: Error) => e instanceof InvalidInputError && /EXEC_PATH/.test(e.message),
    );
    await assert.rejects(create({ EXEC_MODE: 'json' }), /EXEC_MODE must be RAW/);
  });
});
