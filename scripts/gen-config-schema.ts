// Writes docs/config.schema.json from the flag table; test/unit/cli/config-schema.test.ts checks it is current.
import { writeFile } from 'node:fs/promises';
import { configSchema } from './docs/config-schema.ts';

await writeFile(
  new URL('../docs/config.schema.json', import.meta.url),
  `${JSON.stringify(configSchema(), null, 2)}\n`,
);
