import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Verifies leaf + intermediates against the given roots with the openssl CLI; resolves with its output. */
export async function opensslVerify(opts: {
  leaf: string;
  intermediates: string;
  roots: string[];
}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-verify-'));
  try {
    await writeFile(join(dir, 'leaf.pem'), opts.leaf);
    await writeFile(join(dir, 'chain.pem'), opts.intermediates);
    await writeFile(join(dir, 'roots.pem'), opts.roots.join('\n'));
    const args = ['verify', '-CAfile', join(dir, 'roots.pem')];
    if (opts.intermediates.trim()) args.push('-untrusted', join(dir, 'chain.pem'));
    args.push(join(dir, 'leaf.pem'));
    const { stdout } = await run('openssl', args);
    return stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `openssl x509 -text` of a PEM certificate. */
export async function opensslText(pem: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-x509-'));
  try {
    await writeFile(join(dir, 'c.pem'), pem);
    const { stdout } = await run('openssl', ['x509', '-in', join(dir, 'c.pem'), '-noout', '-text']);
    return stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
