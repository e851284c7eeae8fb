import { RedisStore } from '../../../src/storage/redis-store.ts';
import { clusterScenarios } from './scenarios.ts';

clusterScenarios({
  name: 'redis',
  connect: (env) => RedisStore.connect(env.db.url, { prefix: 'cluster:', owner: 'test' }),
});
