import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '../../../errors/base.ts';

/** One profile's settings, keys in lower case (aws_access_key_id, role_arn, region…). */
export type ProfileSettings = Readonly<Record<string, string>>;

export interface SharedProfiles {
  readonly profiles: ReadonlyMap<string, ProfileSettings>;
  /** The files that exist and were read, for messages. */
  readonly read: readonly string[];
  /** Both paths, whether they exist or not, for messages. */
  readonly paths: readonly string[];
}

export function defaultCredentialsFile(): string {
  return join(homedir(), '.aws', 'credentials');
}

export function defaultConfigFile(): string {
  return join(homedir(), '.aws', 'config');
}

/** "~/x" as the SDKs expand it. */
export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/**
 * Parses an AWS shared file. In the credentials file a section is the profile name; in the config file
 * it is `[profile name]`, except `[default]`. Indented lines (nested settings such as `s3 =`) and
 * comments are skipped.
 */
export function parseSharedFile(
  text: string,
  kind: 'credentials' | 'config',
): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s/.test(raw) && current !== undefined && raw.trim() !== '') continue;
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (section) {
      const name = profileName(section[1]!, kind);
      if (name === undefined) {
        current = undefined;
        continue;
      }
      current = out.get(name) ?? {};
      out.set(name, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0 || current === undefined) continue;
    const key = line.slice(0, eq).trim().toLowerCase();
    // A comment after a value needs whitespace before it, as in the SDKs ("key = v # note").
    const value = line
      .slice(eq + 1)
      .replace(/\s[#;].*$/, '')
      .trim();
    current[key] = value;
  }
  return out;
}

function profileName(section: string, kind: 'credentials' | 'config'): string | undefined {
  if (kind === 'credentials') return section;
  if (section === 'default') return 'default';
  const m = /^profile\s+(.+)$/.exec(section);
  // Other sections of the config file (sso-session, services) are not profiles.
  return m ? m[1]!.trim() : undefined;
}

/** Reads both files; a missing file is no error (most machines have neither). The credentials file wins per key. */
export async function loadSharedProfiles(
  credentialsFile: string,
  configFile: string,
  provider = 'route53',
): Promise<SharedProfiles> {
  const profiles = new Map<string, Record<string, string>>();
  const read: string[] = [];
  for (const [path, kind] of [
    [configFile, 'config'],
    [credentialsFile, 'credentials'],
  ] as const) {
    const text = await readOptional(path, provider);
    if (text === undefined) continue;
    read.push(path);
    for (const [name, settings] of parseSharedFile(text, kind)) {
      profiles.set(name, { ...profiles.get(name), ...settings });
    }
  }
  return { profiles, read, paths: [credentialsFile, configFile] };
}

async function readOptional(path: string, provider: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new InvalidInputError(
      `${provider}: cannot read the AWS shared file ${path} (${code ?? 'error'})`,
      path,
      {
        cause: err,
      },
    );
  }
}
