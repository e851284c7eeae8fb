import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flagBySpelling, type OptionName } from '../../src/cli/flags.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The documents whose command lines are checked. */
export const DOCUMENTS = ['README.md', 'docs/cli.md'] as const;

/** One `acmekit …` command line shown in the documentation. */
export interface DocCommand {
  /** "docs/cli.md:42", for messages. */
  where: string;
  /** The line as written. */
  text: string;
  /** Variables the line sets in front of the command, and those an `export` line above it in the block set. */
  env: Record<string, string>;
  /** The words after `acmekit`. */
  argv: string[];
}

/**
 * Every `acmekit …` command line in the fenced code blocks of README.md and docs/cli.md (shell, cron and
 * systemd blocks alike), and in the table of docs/cli.md's "Both dialects, same result", split into
 * words as a POSIX shell would (quotes, `$VAR` from an earlier `export` in the same block).
 */
export function docCommands(): DocCommand[] {
  const out: DocCommand[] = [];
  for (const file of DOCUMENTS) {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
    let fence: string | undefined;
    let exported: Record<string, string> = {};
    let section = '';
    lines.forEach((line, i) => {
      const where = `${file}:${i + 1}`;
      const marker = /^\s*(`{3,})(\S*)/.exec(line);
      if (marker) {
        fence = fence === undefined ? (marker[2] ?? '') : undefined;
        exported = {};
        return;
      }
      if (fence !== undefined) {
        if (['ts', 'js', 'json', 'yaml'].includes(fence)) return;
        const words = shellWords(line, exported);
        if (words[0] === 'export') {
          for (const w of words.slice(1)) {
            const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(w);
            if (m) exported[m[1]!] = m[2]!;
          }
          return;
        }
        const command = commandIn(words, exported);
        if (command) out.push({ where, text: line.trim(), ...command });
        return;
      }
      if (line.startsWith('#')) section = line;
      if (file === 'docs/cli.md' && section === '## Both dialects, same result' && line.startsWith('|')) {
        for (const m of line.matchAll(/`(acmekit [^`]*)`/g)) {
          const command = commandIn(shellWords(m[1]!.replaceAll('\\|', '|'), {}), {});
          if (command) out.push({ where, text: m[1]!, ...command });
        }
      }
    });
  }
  return out;
}

/**
 * The command in a line's words: `acmekit` (or a path ending in /acmekit, or `npx acmekit`) after
 * nothing but `NAME=value` assignments, a cron schedule and user, or systemd's `ExecStart=`.
 */
function commandIn(
  words: string[],
  exported: Record<string, string>,
): { env: Record<string, string>; argv: string[] } | undefined {
  let i = 0;
  const env: Record<string, string> = { ...exported };
  if (words.length > 6 && words.slice(0, 5).every((w) => /^[\d*,/-]+$/.test(w))) i = 6; // cron: 5 fields + user
  for (; i < words.length; i++) {
    const w = words[i]!;
    const exec = /^ExecStart=(.*)$/.exec(w);
    if (exec) {
      words = [...words.slice(0, i), exec[1]!, ...words.slice(i + 1)];
      i--;
      continue;
    }
    const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(w);
    if (assignment) {
      env[assignment[1]!] = assignment[2]!;
      continue;
    }
    if (w === 'npx') continue;
    if (w === 'acmekit' || w.endsWith('/acmekit')) return { env, argv: words.slice(i + 1) };
    return undefined;
  }
  return undefined;
}

/**
 * A line split into words the way sh does it, enough for documentation: '…' literal, "…" and bare
 * words with `$NAME`/`${NAME}` replaced when `vars` has it (kept as written otherwise, a placeholder),
 * backslash escapes, and a `#` at the start of a word beginning a comment.
 */
export function shellWords(line: string, vars: Record<string, string>): string[] {
  const words: string[] = [];
  let word: string | undefined;
  const add = (s: string) => {
    word = (word ?? '') + s;
  };
  const expand = (text: string) =>
    text.replace(
      /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g,
      (all, a, b) => vars[a ?? b] ?? all,
    );
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === '#' && word === undefined) {
      break;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unclosed ' in: ${line}`);
      add(line.slice(i + 1, end));
      i = end;
    } else if (c === '"') {
      let text = '';
      for (i++; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) i++;
        text += line[i];
      }
      if (i >= line.length) throw new Error(`unclosed " in: ${line}`);
      add(expand(text));
    } else if (c === '\\' && i + 1 < line.length) {
      add(line[++i]!);
    } else {
      let text = c;
      while (i + 1 < line.length && !/[\s'"\\]/.test(line[i + 1]!)) text += line[++i];
      add(expand(text));
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** The hook options: a documented hook (`systemctl reload nginx`) must never run on a test machine. */
export const HOOK_OPTIONS: readonly OptionName[] = ['preHook', 'deployHook', 'postHook'];

/**
 * The words with the options named (by canonical name, whatever spelling the line uses, `--opt VALUE`
 * or `--opt=VALUE`) given another value, or dropped with `null`; other words go through `word`.
 * Options the line does not have are not added.
 */
export function rewriteOptions(
  argv: readonly string[],
  replace: Partial<Record<OptionName, string | null>>,
  word: (w: string) => string = (w) => w,
): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    const m = /^--?([^=]+)(=.*)?$/s.exec(w);
    const spec = m && w !== '--' ? flagBySpelling(m[1]!) : undefined;
    if (!spec || !Object.hasOwn(replace, spec.name)) {
      out.push(word(w));
      continue;
    }
    const takesValue = spec.type !== 'boolean';
    if (takesValue && m![2] === undefined) i++; // the value is the next word
    const value = replace[spec.name as OptionName];
    if (value === null || value === undefined) continue;
    out.push(takesValue ? `--${spec.spellings[0]}=${value}` : `--${spec.spellings[0]}`);
  }
  return out;
}
