import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StorageError } from '../errors/storage.ts';
import { UsageError } from '../errors/usage.ts';
import { redactUrl, urlScrubber } from '../storage/backend-error.ts';
import type { Store } from '../storage/store.ts';
import type { Options } from './options.ts';
import type { Output } from './output.ts';

/** Where a `--storage URL` points: a folder in lego's layout, or a database shared by a cluster. */
export type StorageLocation =
  | { readonly kind: 'file'; readonly dir: string }
  | { readonly kind: 'postgres'; readonly url: string }
  | { readonly kind: 'redis'; readonly url: string };

/** An open store and what commands need around it; `close()` ends its connections. */
export interface OpenedStore {
  readonly store: Store;
  readonly location: StorageLocation;
  /** The folder, or the URL with its password replaced by ***: fit for messages. */
  readonly label: string;
  /** The file that holds `key` for a folder; undefined for a database (nothing is on disk). */
  fileOf(key: string): string | undefined;
  close(): Promise<void>;
}

const DRIVERS = { postgres: 'pg', redis: '@redis/client' } as const;

/**
 * Reads `file:DIR` (also `file:///abs/dir` or a plain folder), `postgres://…`/`postgresql://…` and
 * `redis://…`/`rediss://…`. `from` names where the value came from, for the message. Messages never
 * show the URL's password.
 */
export function parseStorageUrl(value: string, from: string): StorageLocation {
  const text = value.trim();
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (text === '') throw new UsageError(`${from} needs a value: file:DIR, postgres://… or redis://…`);
    return { kind: 'file', dir: resolve(text) };
  }
  if (scheme === 'file') {
    let dir = text.slice('file:'.length);
    if (dir.startsWith('//')) {
      try {
        dir = fileURLToPath(text);
      } catch (err) {
        throw new UsageError(
          `${from} ${text}: ${(err as Error).message}; write file:DIR or file:///absolute/dir`,
        );
      }
    }
    if (dir === '') throw new UsageError(`${from} file: needs a folder, e.g. file:/var/lib/acmekit`);
    return { kind: 'file', dir: resolve(dir) };
  }
  const kind =
    scheme === 'postgres' || scheme === 'postgresql'
      ? 'postgres'
      : scheme === 'redis' || scheme === 'rediss'
        ? 'redis'
        : undefined;
  if (kind === undefined) {
    throw new UsageError(
      `${from}: storage ${scheme}: is not supported; use file:DIR, postgres://USER:PASSWORD@HOST/DB or redis://:PASSWORD@HOST:6379`,
    );
  }
  try {
    new URL(text);
  } catch {
    throw new UsageError(`${from}: ${redactUrl(text)} is not a valid ${kind} URL`);
  }
  return { kind, url: text };
}

/**
 * The storage the options name: `--storage URL` (or ACMEKIT_STORAGE, or the config file), else
 * `--path DIR` (default ./.lego). Both set is a usage error unless they name the same folder.
 */
export function storageFrom(o: Options): StorageLocation {
  const url = o.str('storage');
  const pathSource = o.sources.path;
  const path = o.str('path');
  if (url === undefined) return { kind: 'file', dir: resolve(path ?? './.lego') };
  const storageSource = o.sources.storage ?? '--storage';
  const location = parseStorageUrl(url, storageSource);
  if (pathSource !== undefined && path !== undefined) {
    if (location.kind !== 'file' || location.dir !== resolve(path)) {
      const shown = location.kind === 'file' ? location.dir : redactUrl(location.url);
      throw new UsageError(
        `${pathSource} ${path} and ${storageSource} ${shown} name different storage; keep one`,
      );
    }
  }
  return location;
}

/** Opens the storage the options name; see `openStorage`. */
export function openStore(o: Options, out: Output): Promise<OpenedStore> {
  return openStorage(storageFrom(o), out);
}

/**
 * Opens a store: a FileStore at once; for a database, loads its driver (an optional peer
 * dependency, so a missing one is a usage error naming the package to install), connects and asks
 * one question, so a wrong URL, password or an unreachable server fails here, before any CA is
 * contacted, with the URL (password removed) in the message.
 */
export async function openStorage(location: StorageLocation, out: Output): Promise<OpenedStore> {
  if (location.kind === 'file') {
    const { FileStore } = await import('../storage/file-store.ts');
    const store = new FileStore(location.dir, { onWarning: (message: string) => out.warn(message) });
    return {
      store,
      location,
      label: location.dir,
      fileOf: (key) => store.pathOf(key),
      close: async () => {},
    };
  }
  const label = redactUrl(location.url);
  await requireDriver(location.kind);
  const scrub = urlScrubber(location.url);
  let store: Store & { close(): Promise<void> };
  try {
    if (location.kind === 'postgres') {
      const { PostgresStore } = await import('../storage/postgres-store.ts');
      store = await PostgresStore.connect(location.url, { scrub });
    } else {
      const { RedisStore } = await import('../storage/redis-store.ts');
      store = await RedisStore.connect(location.url, { scrub });
    }
  } catch (err) {
    throw cannotConnect(label, err, scrub);
  }
  try {
    // A key that is never stored (only a folder of keys is): one round trip through the real code path.
    await store.get('accounts');
  } catch (err) {
    await store.close().catch(() => {});
    throw cannotConnect(label, err, scrub);
  }
  return { store, location, label, fileOf: () => undefined, close: () => store.close() };
}

/** Fails with a usage error naming the package when the database driver is not installed. */
export async function requireDriver(kind: 'postgres' | 'redis'): Promise<void> {
  const name = DRIVERS[kind];
  try {
    // Literal specifiers: the CLI bundle keeps them external, so they resolve from the user's node_modules.
    await (kind === 'postgres' ? import('pg') : import('@redis/client'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const missing =
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      String((err as Error).message).includes(`'${name}'`);
    if (!missing) throw err;
    throw new UsageError(
      `${kind} storage needs the ${name} package, which is not installed: run \`npm install ${name}\` where acmekit is installed (\`npm install -g ${name}\` for a global acmekit)`,
    );
  }
}

export function cannotConnect(label: string, err: unknown, scrub: (text: string) => string): Error {
  if (err instanceof UsageError) return err;
  const path = err instanceof StorageError ? err.path : '';
  const message = err instanceof Error ? err.message : String(err);
  // "postgres read accounts: password authentication failed …" → the part after the operation.
  const detail = (path && message.startsWith(`${path}: `) ? message.slice(path.length + 2) : message)
    // Meant for a long-running server; a command ends here.
    .replace(' (calls work again once it is back)', '');
  return new StorageError(label, `cannot use this storage: ${scrub(detail)}`);
}
