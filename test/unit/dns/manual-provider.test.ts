import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { ManualProvider } from '../../../src/dns/providers/manual.ts';

const rec = (label: string, value: string) => ({
  fqdn: `_acme-challenge.${label}example.test.`,
  zone: 'example.test.',
  name: `_acme-challenge${label ? `.${label.slice(0, -1)}` : ''}`,
  value,
  ttl: 120,
});
const live = () => new AbortController().signal;

function streams(tty: boolean) {
  const input = Object.assign(new PassThrough(), { isTTY: tty });
  const output = new PassThrough();
  let text = '';
  output.on('data', (c: Buffer) => (text += c.toString()));
  return { input, output, text: () => text };
}

describe('manual provider', () => {
  it('on a terminal: prints every record under one prompt and continues after one Enter', async () => {
    const s = streams(true);
    const p = new ManualProvider(s, 60_000);
    let settled = 0;
    const all = [rec('', 'A'.repeat(43)), rec('', 'B'.repeat(43)), rec('www.', 'C'.repeat(43))].map((r) =>
      p.present(r, live()).then(() => settled++),
    );
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(settled, 0, 'nothing continues before Enter');
    assert.equal(s.text().match(/Press Enter/g)?.length, 1, 'one prompt for all records');
    for (const v of ['A', 'B', 'C']) assert.ok(s.text().includes(`"${v.repeat(43)}"`));
    s.input.write('\n');
    await Promise.all(all);
    assert.equal(settled, 3);
  });

  it('without a terminal: prints once and returns at once, leaving the wait to the propagation check', async () => {
    const s = streams(false);
    const p = new ManualProvider(s, 30 * 60_000);
    await Promise.all([
      p.present(rec('', 'A'.repeat(43)), live()),
      p.present(rec('x.', 'B'.repeat(43)), live()),
    ]);
    assert.match(s.text(), /create these 2 TXT records/);
    assert.match(s.text(), /waiting up to 30 min for the records to appear/);
  });

  it('prints the records to remove once, together', async () => {
    const s = streams(false);
    const p = new ManualProvider(s, 60_000);
    await Promise.all([
      p.cleanup(rec('', 'A'.repeat(43)), live()),
      p.cleanup(rec('', 'B'.repeat(43)), live()),
    ]);
    assert.equal(s.text().match(/remove these TXT records/g)?.length, 1);
  });

  it('an abort while waiting for Enter rejects', async () => {
    const s = streams(true);
    const ac = new AbortController();
    const pending = new ManualProvider(s, 60_000).present(rec('', 'A'.repeat(43)), ac.signal);
    setTimeout(() => ac.abort(new Error('deadline')), 100);
    await assert.rejects(pending, /deadline/);
  });
});
