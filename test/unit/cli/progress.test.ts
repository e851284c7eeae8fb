import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Output } from '../../../src/cli/output.ts';
import { formatValue, progressLogger } from '../../../src/cli/progress-logger.ts';
import { formatElapsed, StatusLine } from '../../../src/cli/status-line.ts';
import { isoTime } from '../../../src/internal/iso-time.ts';
import { loggedWait } from '../../../src/internal/logger.ts';

type Stream = ConstructorParameters<typeof Output>[0]['stderr'];

function fakeStream(isTTY: boolean, columns = 100): { stream: Stream; text: () => string } {
  const chunks: string[] = [];
  const stream = {
    isTTY,
    columns,
    write(text: string) {
      chunks.push(text);
      return true;
    },
  } as unknown as Stream;
  return { stream, text: () => chunks.join('') };
}

const CLEAR = '\r\u001b[2K';

/** An Output on fake streams; `now` drives the status line's clock. */
function output(opts: {
  tty: boolean;
  quiet?: boolean;
  json?: boolean;
  logLevel?: 'warn' | 'info' | 'debug';
}) {
  const err = fakeStream(opts.tty);
  const std = fakeStream(opts.tty);
  let now = 1_000_000;
  const out = new Output({
    json: opts.json ?? false,
    quiet: opts.quiet ?? false,
    logLevel: opts.logLevel,
    stderr: err.stream,
    stdout: std.stream,
    status: { now: () => now, handleSignals: false, tickMs: 60_000 },
  });
  return {
    out,
    stderr: err.text,
    stdout: std.text,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** What a terminal shows at the end: each "\r\x1b[2K" wipes the current line. */
function screen(raw: string): string {
  const lines = [''];
  for (const part of raw.split(/(\r\u001b\[2K|\n)/)) {
    if (part === CLEAR) lines[lines.length - 1] = '';
    else if (part === '\n') lines.push('');
    else lines[lines.length - 1] += part;
  }
  return lines.join('\n');
}

describe('formatValue: what a log field looks like on a line', () => {
  it('writes a time in ISO 8601 UTC, never Date.toString()', () => {
    const d = new Date(Date.UTC(2031, 11, 7, 10, 0, 0));
    assert.equal(formatValue(d), '2031-12-07T10:00:00.000Z');
    assert.equal(formatValue([d, d]), '2031-12-07T10:00:00.000Z,2031-12-07T10:00:00.000Z');
    assert.doesNotMatch(formatValue(d)!, /Sun|GMT|Dec/);
    assert.equal(isoTime(d), '2031-12-07T10:00:00.000Z');
    assert.equal(isoTime(d.getTime()), '2031-12-07T10:00:00.000Z');
    assert.equal(isoTime('2031-12-07T11:00:00+01:00'), '2031-12-07T10:00:00.000Z');
    assert.equal(isoTime('not a date'), 'not a date');
  });

  it('drops URL credentials and control characters; leaves out objects and empty values', () => {
    assert.equal(formatValue('https://user:pw@ca.example/dir'), 'https://ca.example/dir');
    assert.equal(formatValue('a\u001b[2Kb\r\nc'), 'a [2Kb c');
    assert.equal(formatValue({ key: 'x' }), undefined);
    assert.equal(formatValue(undefined), undefined);
    assert.equal(formatValue(null), undefined);
    assert.equal(formatValue(5000), '5000');
    assert.equal(formatValue('x'.repeat(400)), `${'x'.repeat(300)}…`);
  });

  it('progress lines show a notAfter Date in ISO 8601 UTC', () => {
    const { out, stderr } = output({ tty: true });
    const notAfter = new Date(Date.UTC(2031, 11, 7, 10, 0, 0));
    progressLogger(out).info({ order: 'https://ca.example/o/1', notAfter }, 'certificate issued');
    assert.match(
      stderr(),
      /certificate issued order=https:\/\/ca\.example\/o\/1 notAfter=2031-12-07T10:00:00\.000Z\n/,
    );
  });

  it('formatElapsed: seconds, then minutes, then hours', () => {
    assert.equal(formatElapsed(0), '0 s');
    assert.equal(formatElapsed(59_999), '59 s');
    assert.equal(formatElapsed(65_000), '1 min 05 s');
    assert.equal(formatElapsed(3_720_000), '1 h 02 min');
  });
});

/** The two events of a wait, as the library logs them. */
const validationStart = { wait: 'validation', waitFor: 'a.example, www.a.example', order: 'https://ca/o/1' };
const validationDone = { waitDone: 'validation', waitFor: 'a.example, www.a.example', elapsedMs: 3200 };

describe('the status line on a terminal', () => {
  it('shows what is awaited, for which names and since when, in place; gone when the wait ends', () => {
    const { out, stderr, advance } = output({ tty: true });
    const log = progressLogger(out);
    log.info(validationStart, 'waiting for the CA to validate');
    assert.equal(stderr(), `${CLEAR}  waiting for the CA to validate: a.example, www.a.example (0 s)`);
    advance(3_000);
    log.info({ order: 'https://ca/o/1', status: 'valid' }, 'order polled'); // a normal line meanwhile
    const raw = stderr();
    assert.match(
      raw,
      /\r\u001b\[2K {2}order polled order=https:\/\/ca\/o\/1 status=valid\n/,
      'cleared before the line',
    );
    assert.ok(
      raw.endsWith(`${CLEAR}  waiting for the CA to validate: a.example, www.a.example (3 s)`),
      'drawn again after it',
    );
    log.info(validationDone, 'done waiting for the CA to validate');
    assert.ok(stderr().endsWith(CLEAR), 'erased at the end of the wait');
    assert.equal(screen(stderr()), '  order polled order=https://ca/o/1 status=valid\n');
  });

  it('a stdout line on the same terminal does not run into the status line', () => {
    const { out, stderr, stdout } = output({ tty: true });
    progressLogger(out).info(
      { wait: 'dns-propagation', waitFor: 'a.example' },
      'dns-01: waiting for the TXT record on every nameserver',
    );
    out.line('a.example: obtained');
    assert.equal(stdout(), 'a.example: obtained\n');
    assert.ok(
      stderr().includes(
        `${CLEAR}  dns-01: waiting for the TXT record on every nameserver: a.example (0 s)${CLEAR}${CLEAR}`,
      ),
    );
  });

  it('waits of one kind share the line; a retry says why and how long it lasts', () => {
    const { out, stderr } = output({ tty: true });
    const log = progressLogger(out);
    log.info({ wait: 'dns-propagation', waitFor: 'a.example' }, 'waiting for the TXT record');
    log.info({ wait: 'dns-propagation', waitFor: '*.a.example' }, 'waiting for the TXT record');
    assert.ok(stderr().endsWith('waiting for the TXT record: a.example, *.a.example (0 s)'));
    log.info(
      { wait: 'retry', waitFor: 'https://ca/new-order', delayMs: 5000, status: 503 },
      'server asked to retry later, waiting',
    );
    assert.ok(stderr().endsWith('waiting for the TXT record: a.example, *.a.example (0 s) +1 more'));
    log.info({ waitDone: 'dns-propagation', waitFor: 'a.example', elapsedMs: 1 }, 'done');
    log.info({ waitDone: 'dns-propagation', waitFor: '*.a.example', elapsedMs: 1 }, 'done');
    assert.ok(
      stderr().endsWith('server asked to retry later, waiting (HTTP 503): https://ca/new-order (0 s of 5 s)'),
      stderr(),
    );
    log.debug({ waitDone: 'retry', waitFor: 'https://ca/new-order', elapsedMs: 5000 }, 'retrying now');
    assert.equal(screen(stderr()), '');
  });

  it('fits the terminal width: the names give way, the time stays', () => {
    const lines: string[] = [];
    const status = new StatusLine(
      { write: (t) => lines.push(t), columns: 50 },
      { now: () => 0, handleSignals: false, tickMs: 60_000 },
    );
    status.begin(
      'k',
      'waiting for the CA to validate',
      'a-very-long-name.example.com, www.a-very-long-name.example.com',
    );
    const text = status.text()!;
    assert.ok(text.length <= 49, text);
    assert.match(text, /^ {2}waiting for the CA to validate: a-ve.*… \(0 s\)$/);
    status.close();
    assert.equal(lines.at(-1), CLEAR);
  });

  it('updates the elapsed time every tick, and stops when closed', async () => {
    const lines: string[] = [];
    let now = 0;
    const status = new StatusLine(
      { write: (t) => lines.push(t), columns: 80 },
      { now: () => now, handleSignals: false, tickMs: 5 },
    );
    status.begin('k', 'waiting', 'a.example');
    now = 2_000;
    await sleep(30);
    assert.ok(
      lines.some((l) => l.endsWith('waiting: a.example (2 s)')),
      lines.join('|'),
    );
    status.close();
    const count = lines.length;
    await sleep(30);
    assert.equal(lines.length, count, 'nothing drawn after close');
    assert.equal(lines.at(-1), CLEAR);
  });

  it('a failure line comes on a clean line, and nothing of the status line is left after close()', () => {
    const { out, stderr } = output({ tty: true });
    progressLogger(out).info(validationStart, 'waiting for the CA to validate');
    out.close();
    out.error('a.example: failed: the CA could not reach the answer');
    assert.equal(screen(stderr()), 'error: a.example: failed: the CA could not reach the answer\n');
  });

  it('never prints a field whose name suggests a secret, nor URL credentials, in the status or the lines', () => {
    const { out, stderr } = output({ tty: false, logLevel: 'debug' });
    const log = progressLogger(out);
    log.debug({ url: 'https://u:hunter2@ca/x', hmacKey: 'hunter2', token: 'hunter2' }, 'ACME request');
    log.info(
      { wait: 'retry', waitFor: 'https://u:hunter2@ca/x', delayMs: 1000, status: 503 },
      'server asked to retry later, waiting',
    );
    assert.doesNotMatch(stderr(), /hunter2/);
  });
});

describe('waits without a terminal, and with --quiet or --json', () => {
  it('--log-level info on a non-terminal prints plain lines: the start, then the end with the time taken', () => {
    const { out, stderr } = output({ tty: false, logLevel: 'info' });
    const log = progressLogger(out);
    log.info(validationStart, 'waiting for the CA to validate');
    log.info(validationDone, 'done waiting for the CA to validate');
    log.info(
      { wait: 'challenge-delay', waitFor: 'a.example', delayMs: 5000 },
      'waiting before asking the CA to check',
    );
    assert.equal(
      stderr(),
      [
        '  waiting for the CA to validate: a.example, www.a.example',
        '  done waiting for the CA to validate: a.example, www.a.example after 3 s',
        '  waiting before asking the CA to check: a.example, 5 s',
        '',
      ].join('\n'),
    );
    assert.doesNotMatch(stderr(), /\r/);
  });

  it('a non-terminal without --log-level prints nothing of the waits', () => {
    const { out, stderr } = output({ tty: false });
    progressLogger(out).info(validationStart, 'waiting for the CA to validate');
    assert.equal(stderr(), '');
  });

  it('--log-level warn on a terminal: no status line either', () => {
    const { out, stderr } = output({ tty: true, logLevel: 'warn' });
    assert.equal(out.live, false);
    progressLogger(out).info(validationStart, 'waiting for the CA to validate');
    assert.equal(stderr(), '');
  });

  for (const flag of ['quiet', 'json'] as const) {
    it(`--${flag} on a terminal: no status line, no progress`, () => {
      const { out, stderr } = output({ tty: true, [flag]: true });
      assert.equal(out.live, false);
      const log = progressLogger(out);
      log.info(validationStart, 'waiting for the CA to validate');
      log.info({ order: 'x' }, 'order created');
      log.info(validationDone, 'done waiting for the CA to validate');
      assert.equal(stderr(), '');
    });
  }
});

describe('loggedWait: the two events of a wait', () => {
  it('logs the start and, however the wait ends, the end with the time it took', async () => {
    const events: [string, Record<string, unknown>, string | undefined][] = [];
    const logger = {
      debug: (o: object, m?: string) => events.push(['debug', o as Record<string, unknown>, m]),
      info: (o: object, m?: string) => events.push(['info', o as Record<string, unknown>, m]),
      warn: () => {},
      error: () => {},
    };
    let t = 0;
    const wait = { kind: 'validation' as const, waitFor: 'a.example', fields: { order: 'o' } };
    const value = await loggedWait(
      logger,
      wait,
      { start: 'start', done: 'done' },
      async () => {
        t = 1500;
        return 7;
      },
      () => t,
    );
    assert.equal(value, 7);
    assert.deepEqual(events, [
      ['info', { order: 'o', waitFor: 'a.example', wait: 'validation' }, 'start'],
      ['info', { order: 'o', waitFor: 'a.example', waitDone: 'validation', elapsedMs: 1500 }, 'done'],
    ]);
    events.length = 0;
    await assert.rejects(
      loggedWait(
        logger,
        { ...wait, delayMs: 10, level: 'debug', doneLevel: 'debug' },
        { start: 's', done: 'd' },
        () => Promise.reject(new Error('timed out')),
      ),
      /timed out/,
    );
    assert.equal(events[0]![1].delayMs, 10);
    assert.equal(events[1]![0], 'debug');
    assert.equal(events[1]![1].failed, true);
  });
});
