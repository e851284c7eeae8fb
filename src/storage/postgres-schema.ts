import { InvalidInputError } from '../errors/base.ts';
import { StorageError } from '../errors/storage.ts';

/**
 * The one thing acmekit needs from a PostgreSQL client: run one parameterised statement. A `pg.Pool`
 * or `pg.Client` fits as is. Each call may run on a different connection (a pool, PgBouncer in
 * transaction mode): acmekit never relies on session state, every guarantee holds within one statement.
 *
 * postgres.js (`postgres` on npm) needs ten lines:
 *
 *   import postgres from 'postgres';
 *   const sql = postgres(process.env.DATABASE_URL);
 *   const client: SqlClient = {
 *     async query(text, params) {
 *       // unsafe() takes $1… placeholders; Buffers go to bytea, bytea comes back as Buffer.
 *       const result = await sql.unsafe(text, params as never[]);
 *       return { rows: [...result], rowCount: result.count };
 *     },
 *   };
 *   const store = new PostgresStore(client);
 */
export interface SqlClient {
  // biome-ignore lint/suspicious/noExplicitAny: rows are whatever the driver decodes; read field by field
  query(text: string, params: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
}

/** The schema this acmekit writes; a database with a newer one is refused rather than misread. */
export const SCHEMA_VERSION = 1;

/** Table names for one installation: `<prefix>entries`, `<prefix>leases`, `<prefix>schema`. */
export interface PostgresTables {
  entries: string;
  leases: string;
  schema: string;
}

const PREFIX = /^[a-z_][a-z0-9_]{0,40}$/;

/** Tables for `prefix` (lower case letters, digits and "_", so it can never inject SQL). */
export function postgresTables(prefix = 'acmekit_'): PostgresTables {
  if (!PREFIX.test(prefix)) {
    throw new InvalidInputError(
      `table prefix ${JSON.stringify(prefix)} must be 1-41 lower case letters, digits or "_", starting with a letter or "_"`,
      prefix,
    );
  }
  return { entries: `"${prefix}entries"`, leases: `"${prefix}leases"`, schema: `"${prefix}schema"` };
}

function statements(t: PostgresTables): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${t.schema} (
       id int PRIMARY KEY CHECK (id = 1),
       version int NOT NULL)`,
    // COLLATE "C": keys compare byte by byte whatever the database's locale, so LIKE 'prefix%' can
    // use the primary key index.
    `CREATE TABLE IF NOT EXISTS ${t.entries} (
       key text COLLATE "C" PRIMARY KEY,
       value bytea NOT NULL,
       private boolean NOT NULL DEFAULT false,
       updated_at timestamptz NOT NULL DEFAULT now())`,
    // One row per lock name, kept after release so the fence only grows; expires_at NULL = free.
    `CREATE TABLE IF NOT EXISTS ${t.leases} (
       name text COLLATE "C" PRIMARY KEY,
       fence bigint NOT NULL,
       owner text NOT NULL,
       pid integer,
       expires_at timestamptz)`,
    `INSERT INTO ${t.schema} (id, version) VALUES (1, ${SCHEMA_VERSION}) ON CONFLICT (id) DO NOTHING`,
  ];
}

// Two processes running CREATE TABLE IF NOT EXISTS at once can both miss the table, and the loser fails
// with one of these; running the statement again then finds the table.
const CREATE_RACE = new Set(['23505', '42P07', '42710']);

/**
 * Creates the tables if missing (idempotent, safe to run from several processes at once) and checks
 * the schema version. PostgresStore runs it before its first call; run it yourself to create the
 * schema at deploy time, e.g. with a role that may CREATE when the service's role may not.
 */
export async function migrate(client: SqlClient, prefix = 'acmekit_'): Promise<void> {
  const tables = postgresTables(prefix);
  for (const text of statements(tables)) {
    try {
      await client.query(text, []);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && CREATE_RACE.has(code)) await client.query(text, []);
      else throw err;
    }
  }
  const { rows } = await client.query(`SELECT version FROM ${tables.schema} WHERE id = 1`, []);
  const version = Number(rows[0]?.version);
  if (version > SCHEMA_VERSION) {
    throw new StorageError(
      `postgres ${tables.schema}`,
      `schema version ${version} is newer than this acmekit understands (${SCHEMA_VERSION}); upgrade acmekit`,
    );
  }
}
