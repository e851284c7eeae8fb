import { stat } from 'node:fs/promises';
import { UsageError } from '../../errors/usage.ts';
import { backendFailure, redactUrl, urlScrubber } from '../../storage/backend-error.ts';
import { compareStores, copyStore } from '../../storage/copy.ts';
import { exitCodes } from '../exit-codes.ts';
import type { Options } from '../options.ts';
import {
  cannotConnect,
  openStorage,
  parseStorageUrl,
  requireDriver,
  type StorageLocation,
  storageFrom,
} from '../storage-url.ts';
import type { CommandEnv } from './command-env.ts';

/** `storage migrate` (create or upgrade a database's schema) and `storage copy` (move an installation). */
export async function storageCommand(o: Options, ctx: CommandEnv, sub: 'migrate' | 'copy'): Promise<number> {
  return sub === 'migrate' ? migrateCommand(o, ctx) : copyCommand(o, ctx);
}

async function migrateCommand(o: Options, { out }: CommandEnv): Promise<number> {
  const location = storageFrom(o);
  if (location.kind !== 'postgres') {
    // Nothing to create: a folder is made on first write, Redis keys on first use. Still check it works.
    const opened = await openStorage(location, out);
    await opened.close();
    out.line(`${opened.label}: ${location.kind} storage has no schema; nothing to do`);
    out.document({ ok: true, storage: opened.label, kind: location.kind, schemaVersion: null });
    return exitCodes.ok;
  }
  const { previous, current } = await migratePostgres(location.url);
  const label = redactUrl(location.url);
  const what =
    previous === undefined
      ? 'created'
      : previous === current
        ? 'already up to date'
        : `upgraded from version ${previous}`;
  out.line(`${label}: schema version ${current} (${what})`);
  out.document({
    ok: true,
    storage: label,
    kind: 'postgres',
    schemaVersion: current,
    previousVersion: previous ?? null,
  });
  return exitCodes.ok;
}

/** Runs the schema migration on a connection of its own; reports the version before and after. */
async function migratePostgres(url: string): Promise<{ previous: number | undefined; current: number }> {
  const label = redactUrl(url);
  const scrub = urlScrubber(url);
  await requireDriver('postgres');
  const pg = (await import('pg')).default;
  const { migrate } = await import('../../storage/postgres-schema.ts');
  const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 5000 });
  pool.on('error', () => {});
  try {
    const previous = await schemaVersion(pool);
    await migrate(pool);
    const current = await schemaVersion(pool);
    if (current === undefined) throw new Error('the schema table is still missing after the migration');
    return { previous, current };
  } catch (err) {
    throw cannotConnect(label, backendFailure('postgres', 'migrate', err, scrub), scrub);
  } finally {
    await pool.end().catch(() => {});
  }
}

async function schemaVersion(pool: import('pg').Pool): Promise<number | undefined> {
  const { postgresTables } = await import('../../storage/postgres-schema.ts');
  try {
    const { rows } = await pool.query(`SELECT version FROM ${postgresTables().schema} WHERE id = 1`);
    return rows[0] === undefined ? undefined : Number(rows[0].version);
  } catch (err) {
    if ((err as { code?: unknown }).code === '42P01') return undefined; // undefined_table: never migrated
    throw err;
  }
}

async function copyCommand(o: Options, { out }: CommandEnv): Promise<number> {
  const from = copyEnd(o, 'copyFrom', '--from');
  const to = copyEnd(o, 'copyTo', '--to');
  if (sameLocation(from, to)) throw new UsageError('--from and --to name the same storage; nothing to copy');
  // A mistyped folder would otherwise copy nothing and say so as if all were well.
  if (
    from.kind === 'file' &&
    !(await stat(from.dir).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  ) {
    throw new UsageError(`--from ${from.dir}: no such folder`);
  }
  const source = await openStorage(from, out);
  try {
    const target = await openStorage(to, out);
    try {
      const plan = await compareStores(source.store, target.store);
      if (plan.different.length > 0 && !o.bool('overwrite')) {
        const shown = plan.different.slice(0, 5).join(', ');
        const more = plan.different.length > 5 ? ` and ${plan.different.length - 5} more` : '';
        throw new UsageError(
          `${target.label} already holds ${plan.different.length} ${plural(plan.different.length, 'entry', 'entries')} with other content (${shown}${more}); nothing was copied. Pass --overwrite to replace them`,
        );
      }
      let privateKeys = 0;
      const copied = await copyStore(source.store, target.store, {
        keys: [...plan.missing, ...plan.different],
        onKey: (key, isPrivate) => {
          if (isPrivate) privateKeys++;
          out.progress(`  ${key}${isPrivate ? ' (private)' : ''}`);
        },
      });
      const total = plan.missing.length + plan.same.length + plan.different.length;
      out.line(
        `copied ${copied} of ${total} ${plural(total, 'entry', 'entries')} from ${source.label} to ${target.label} (${privateKeys} private); ${plan.same.length} already the same, ${plan.different.length} replaced`,
      );
      out.document({
        ok: true,
        from: source.label,
        to: target.label,
        entries: total,
        copied,
        private: privateKeys,
        unchanged: plan.same.length,
        replaced: plan.different.length,
      });
      return exitCodes.ok;
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

function copyEnd(o: Options, name: 'copyFrom' | 'copyTo', flag: string): StorageLocation {
  const value = o.str(name);
  if (value === undefined) {
    throw new UsageError(
      `storage copy needs ${flag} URL, e.g. acmekit storage copy --from file:/etc/acmekit --to postgres://acmekit@db.internal/acmekit`,
    );
  }
  return parseStorageUrl(value, o.sources[name] ?? flag);
}

function sameLocation(a: StorageLocation, b: StorageLocation): boolean {
  if (a.kind === 'file') return b.kind === 'file' && a.dir === b.dir;
  return b.kind === a.kind && new URL(a.url).href === new URL(b.url).href;
}

function plural(n: number, one: string, many: string): string {
  return n === 1 ? one : many;
}
