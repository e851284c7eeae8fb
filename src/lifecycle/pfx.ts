import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PfxError } from '../errors/pfx.ts';

/** lego's --pfx.format values (go-pkcs12 encoders): LegacyRC2, LegacyDES, Modern (AES-256, PBKDF2-SHA256). */
export const pfxFormats = ['RC2', 'DES', 'SHA256'] as const;
export type PfxFormat = (typeof pfxFormats)[number];

/** The openssl pkcs12 arguments that give each format's certificate and key encryption and MAC. */
const FORMAT_ARGS: Readonly<Record<PfxFormat, readonly string[]>> = {
  // RC2-40 needs OpenSSL 3's legacy provider.
  RC2: ['-legacy', '-certpbe', 'PBE-SHA1-RC2-40', '-keypbe', 'PBE-SHA1-3DES', '-macalg', 'sha1'],
  DES: ['-certpbe', 'PBE-SHA1-3DES', '-keypbe', 'PBE-SHA1-3DES', '-macalg', 'sha1'],
  SHA256: ['-certpbe', 'AES-256-CBC', '-keypbe', 'AES-256-CBC', '-macalg', 'sha256'],
};

/**
 * PKCS#12 bundle of key, leaf and issuers (lego's --pfx), made by the openssl command: Node has no
 * PKCS#12 encoder. The password travels in an environment variable, never on the command line.
 */
export async function buildPfx(opts: {
  keyPem: string;
  certPem: string;
  issuerPem: string;
  password: string;
  /** Encryption and MAC; default: the openssl command's own (SHA256's with OpenSSL 3). */
  format?: PfxFormat;
}): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'acmekit-pfx-'));
  try {
    await writeFile(join(dir, 'key.pem'), opts.keyPem, { mode: 0o600 });
    await writeFile(join(dir, 'cert.pem'), opts.certPem);
    await writeFile(join(dir, 'issuer.pem'), opts.issuerPem);
    const args = ['pkcs12', '-export', '-inkey', join(dir, 'key.pem'), '-in', join(dir, 'cert.pem')];
    if (opts.issuerPem.trim()) args.push('-certfile', join(dir, 'issuer.pem'));
    if (opts.format) args.push(...FORMAT_ARGS[opts.format]);
    args.push('-passout', 'env:ACMEKIT_PFX_PASS', '-out', join(dir, 'out.pfx'));
    // Loaded on use: the CLI's `run` imports this module for its formats, and most runs make no .pfx.
    const { execFile } = process.getBuiltinModule('node:child_process');
    const { promisify } = process.getBuiltinModule('node:util');
    try {
      await promisify(execFile)('openssl', args, {
        env: { ...process.env, ACMEKIT_PFX_PASS: opts.password },
      });
    } catch (cause) {
      const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
      throw new PfxError(
        missing
          ? '--pfx needs the openssl command; install it (apt-get install openssl)'
          : `openssl could not build the .pfx: ${(cause as { stderr?: string }).stderr ?? String(cause)}`,
        { cause },
      );
    }
    return await readFile(join(dir, 'out.pfx'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
