import { spawn } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Runs the CLI and SIGKILLs it after `afterMs` (or lets it finish first). */
export function runAndKill(bin: string, args: string[], afterMs: number): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
    child.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Every file of a lego folder is whole (throws otherwise): certificates and keys (pending or not)
 * parse, certificate records and account.json parse as JSON.
 */
export async function checkWhole(lego: string): Promise<void> {
  const certs = join(lego, 'certificates');
  for (const name of await readdir(certs).catch(() => [] as string[])) {
    const text = await readFile(join(certs, name), 'utf8');
    if (name.endsWith('.crt')) new X509Certificate(text);
    else if (name.endsWith('.key') || name.endsWith('.key.pending')) createPrivateKey(text);
    else if (name.endsWith('.json')) JSON.parse(text);
  }
  const accounts = join(lego, 'accounts');
  for (const server of await readdir(accounts).catch(() => [] as string[])) {
    for (const email of await readdir(join(accounts, server))) {
      const json = await readFile(join(accounts, server, email, 'account.json'), 'utf8').catch(
        () => undefined,
      );
      if (json !== undefined) JSON.parse(json);
    }
  }
}
