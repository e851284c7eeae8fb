import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { configSchema } from '../../../scripts/docs/config-schema.ts';

test('docs/config.schema.json is generated from the flag table (run scripts/gen-config-schema.ts)', async () => {
  const published = JSON.parse(
    await readFile(new URL('../../../docs/config.schema.json', import.meta.url), 'utf8'),
  );
  assert.deepEqual(published, JSON.parse(JSON.stringify(configSchema())));
});
