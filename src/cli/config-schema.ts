import { flags } from './flags.ts';

const NOT_IN_CONFIG = new Set(['config', 'help', 'version']);

/** JSON Schema of the --config YAML file, generated from the flag table (docs/config.schema.json). */
export function configSchema(): object {
  const properties: Record<string, object> = {};
  for (const f of flags) {
    if (NOT_IN_CONFIG.has(f.name)) continue;
    const type =
      f.type === 'list'
        ? { type: 'array', items: { type: 'string' } }
        : { type: f.type === 'number' ? 'number' : f.type };
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
