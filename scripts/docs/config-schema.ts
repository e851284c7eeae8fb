// docs/config.schema.json, from the flag table; written by scripts/gen-config-schema.ts, checked by
// test/unit/cli/config-schema.test.ts. No command imports this file.
import { flags, type OptionName } from '../../src/cli/flags.ts';

const NOT_IN_CONFIG = new Set<OptionName>(['config', 'help', 'version']);
/** A duration as a string: seconds ("90") or Go's form ("30s", "2m0s", "1h30m", "500ms"); `pattern` checks strings only. */
const DURATION_PATTERN = '^(\\d+(\\.\\d+)?|(\\d+(\\.\\d+)?(ns|us|µs|ms|s|m|h))+)$';

/** JSON Schema of the --config YAML file, generated from the flag table (docs/config.schema.json). */
export function configSchema(): object {
  const properties: Record<string, object> = {};
  for (const f of flags) {
    if (NOT_IN_CONFIG.has(f.name)) continue;
    const type =
      f.type === 'list'
        ? { type: 'array', items: { type: 'string' } }
        : f.type === 'duration'
          ? { type: ['number', 'string'], pattern: DURATION_PATTERN }
          : { type: f.type };
    properties[f.name] = {
      ...type,
      description: f.help,
      ...(f.default !== undefined ? { default: f.default } : {}),
    };
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'acmekit configuration file',
    description:
      'Settings for acmekit --config FILE. Command-line options and environment variables win over this file.',
    type: 'object',
    additionalProperties: false,
    properties,
  };
}
