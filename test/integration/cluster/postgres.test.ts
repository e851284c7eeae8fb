import pg from 'pg';
import { PostgresStore } from '../../../src/storage/postgres-store.ts';
import { clusterScenarios } from './scenarios.ts';

clusterScenarios({
  name: 'postgres',
  connect: (env) => PostgresStore.connect(env.db.url, { prefix: 'cluster_', owner: 'test' }),
  async writtenAt(env, key) {
    const client = new pg.Client({ connectionString: env.db.url });
    await client.connect();
    try {
      const { rows } = await client.query(
        'SELECT updated_at::text AS at FROM cluster_entries WHERE key = $1',
        [key],
      );
      return rows[0]?.at;
    } finally {
      await client.end();
    }
  },
});
