import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandsOf, flags } from '../../../src/cli/flags.ts';
import { commandHelpText, helpFor, helpText, helpTopics } from '../../../src/cli/help.ts';
import { commandTree } from '../../../src/cli/parse-args.ts';
import { UsageError } from '../../../src/errors/usage.ts';

const dash = (s: string): string => (s.length === 1 ? `-${s}` : `--${s}`);

/** The options a page lists as rows of its own: every spelling at the start of a row. */
function rows(page: string): Set<string> {
  const found = new Set<string>();
  const options = page.split('\nAlso accepted for lego compatibility')[0]!.split('\nExamples:')[0]!;
  for (const line of options.split('\n')) {
    if (!/^ {2}-/.test(line)) continue;
    const names = line.trim().split(/ {2,}/)[0]!;
    for (const part of names.split(', ')) found.add(part.split(' ')[0]!);
  }
  return found;
}

/** The spellings in the page's "Also accepted for lego compatibility" paragraph. */
function compatNames(page: string): Set<string> {
  const paragraph = page.split('Also accepted for lego compatibility')[1]?.split('\n\n')[0] ?? '';
  const list = paragraph.slice(paragraph.indexOf('):') + 2);
  return new Set(
    list
      .split(/,\s+/)
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

const pages = Object.fromEntries(helpTopics.map((t) => [t, commandHelpText(t)])) as Record<
  (typeof helpTopics)[number],
  string
>;

describe('acmekit COMMAND --help', () => {
  it('each page names its own options and not the options of other commands', () => {
    const has = (topic: keyof typeof pages, ...names: string[]) => {
      for (const n of names) assert.ok(rows(pages[topic]).has(n), `${topic} --help lacks ${n}`);
    };
    const lacks = (topic: keyof typeof pages, ...names: string[]) => {
      for (const n of names) assert.ok(!rows(pages[topic]).has(n), `${topic} --help lists ${n}`);
    };
    has('revoke', '--reason', '--keep', '--domains', '--filename', '--server', '--path');
    lacks('revoke', '--renew-hook', '--deploy-hook', '--http', '--dns', '--from', '--names', '--csr');
    has(
      'run',
      '--domains',
      '--http',
      '--dns',
      '--deploy-hook',
      '--renew-hook',
      '--csr',
      '--days',
      '--dry-run',
    );
    lacks('run', '--reason', '--keep', '--from', '--to', '--overwrite', '--names', '--no-random-sleep');
    has('renew', '--no-random-sleep', '--days', '--force-cert-domains', '--http');
    lacks('renew', '--reason', '--from');
    has('list', '--names', '--accounts', '--days', '--ari-disable', '--server');
    lacks('list', '--reason', '--domains', '--email', '--http', '--deploy-hook', '--from');
    has('certificates', '--names', '--reason', '--keep');
    lacks('certificates', '--http', '--deploy-hook', '--from');
    has('accounts', '--email', '--accept-tos', '--eab.kid', '--eab.hmac', '--private-key');
    lacks('accounts', '--reason', '--domains', '--http', '--names', '--from');
    has('storage', '--from', '--to', '--overwrite', '--storage', '--path');
    lacks('storage', '--domains', '--email', '--server', '--reason', '--http');
    has('dns', '--json', '--help', '--domains', '--dns.resolvers', '--dns.zone');
    lacks('dns', '--server', '--storage', '--reason', '--http');
  });

  it('each page lists exactly the flag table’s options of its commands, compatibility flags in one paragraph', () => {
    const takes: Record<string, readonly string[]> = { certificates: ['list', 'revoke'] };
    for (const topic of helpTopics) {
      const commands = takes[topic] ?? [topic];
      const shown = flags.filter((f) => commandsOf(f).some((c) => commands.includes(c)));
      const expectRows = shown.filter((f) => f.group !== 'compat').flatMap((f) => f.spellings.map(dash));
      const expectCompat = shown.filter((f) => f.group === 'compat').flatMap((f) => f.spellings.map(dash));
      assert.deepEqual([...rows(pages[topic])].sort(), expectRows.sort(), topic);
      assert.deepEqual([...compatNames(pages[topic])].sort(), expectCompat.sort(), topic);
    }
  });

  it('every flag, in every spelling, is on at least one command’s page', () => {
    const everywhere = new Set<string>();
    for (const page of Object.values(pages)) {
      for (const n of rows(page)) everywhere.add(n);
      for (const n of compatNames(page)) everywhere.add(n);
    }
    for (const f of flags)
      for (const s of f.spellings) assert.ok(everywhere.has(dash(s)), `${f.name}: ${dash(s)}`);
  });

  it('each page has two or three examples of its own command', () => {
    for (const topic of helpTopics) {
      const examples = pages[topic].split('\nExamples:\n')[1]!.split('\n\n')[0]!.split('\n');
      assert.ok(examples.length >= 2 && examples.length <= 3, `${topic}: ${examples.length} examples`);
      for (const e of examples) assert.match(e, new RegExp(`acmekit .*\\b${topic}\\b`), `${topic}: ${e}`);
    }
  });

  it('no line of a page is longer than 100 characters, examples aside', () => {
    for (const [topic, page] of Object.entries(pages)) {
      const body = page.split('\nExamples:\n')[0]!;
      for (const line of body.split('\n')) assert.ok(line.length <= 100, `${topic}: ${line}`);
    }
  });

  it('help COMMAND, COMMAND --help and COMMAND SUBCOMMAND --help print the same page', () => {
    assert.equal(helpFor(['help'], ['revoke']), pages.revoke);
    assert.equal(helpFor(['revoke'], []), pages.revoke);
    assert.equal(helpFor(['certificates', 'list'], []), pages.certificates);
    assert.equal(helpFor(['accounts', 'register'], []), pages.accounts);
    assert.equal(helpFor(['storage'], ['copy']), pages.storage);
    assert.equal(helpFor([], []), helpText());
    assert.equal(helpFor(['help'], []), helpText());
    assert.throws(() => helpFor(['help'], ['renwe']), UsageError);
  });
});

describe('acmekit --help', () => {
  const text = helpText();

  it('names every command and says where each one’s options are', () => {
    const commands = Object.keys(commandTree).filter((c) => c !== 'help' && c !== 'version');
    for (const c of commands) assert.match(text, new RegExp(`^ {2}${c} `, 'm'), c);
    assert.deepEqual([...helpTopics].sort(), commands.sort());
    assert.match(text, /`acmekit COMMAND --help` shows the options each command takes/);
    assert.match(text, /acmekit help COMMAND/);
  });

  it('lists only the options every command takes', () => {
    const listed = rows(text);
    assert.ok(
      listed.has('--json') && listed.has('--quiet') && listed.has('--log-level') && listed.has('--help'),
    );
    for (const n of ['--domains', '--reason', '--deploy-hook', '--from', '--http'])
      assert.ok(!listed.has(n), n);
  });
});
