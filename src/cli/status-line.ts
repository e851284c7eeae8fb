import { sanitizeText } from '../errors/problem.ts';

/** Where the line is drawn: stderr when it is a terminal. */
export interface StatusStream {
  write(text: string): unknown;
  columns?: number | undefined;
}

interface Entry {
  /** What is awaited ("waiting for the CA to validate"). */
  what: string;
  /** For which names (or URL). */
  waitFor: string;
  since: number;
  /** The planned length, when known (a fixed delay, a Retry-After). */
  delayMs: number | undefined;
}

/** "\r" and "erase the whole line": the cursor is back at the start of an empty line. */
const CLEAR = '\r\u001b[2K';
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** 4 s, 1 min 05 s, 2 h 03 min: how long a wait has lasted. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/**
 * One line on a terminal, rewritten in place every second: what acmekit is waiting for, for which
 * names, and for how long. Whoever prints anything else on that terminal calls `hide()` first and
 * `show()` after, so the line never runs into other text; `close()` removes it for good. While it is
 * on screen, an exit or a fatal signal (Ctrl-C) clears it first.
 */
export class StatusLine {
  readonly #stream: StatusStream;
  readonly #now: () => number;
  readonly #tickMs: number;
  readonly #handleSignals: boolean;
  readonly #entries = new Map<string, Entry>();
  #shown = false;
  #hidden = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #hooked = false;

  constructor(
    stream: StatusStream,
    opts: { now?: () => number; tickMs?: number; handleSignals?: boolean } = {},
  ) {
    this.#stream = stream;
    this.#now = opts.now ?? Date.now;
    this.#tickMs = opts.tickMs ?? 1000;
    this.#handleSignals = opts.handleSignals ?? true;
  }

  /** A wait starts (`key` names it until `end`); drawn at once, then every second. */
  begin(key: string, what: string, waitFor: string, delayMs?: number): void {
    this.#entries.set(key, { what, waitFor, since: this.#now(), delayMs });
    this.#changed();
  }

  end(key: string): void {
    if (this.#entries.delete(key)) this.#changed();
  }

  /** Takes the line off the screen until `show()` (calls nest). */
  hide(): void {
    this.#hidden++;
    this.#erase();
  }

  show(): void {
    if (this.#hidden > 0) this.#hidden--;
    if (this.#hidden === 0) this.#draw();
  }

  /** Removes the line and forgets every wait: nothing is drawn after this. */
  close(): void {
    this.#entries.clear();
    this.#changed();
  }

  /** The text drawn now, without the control characters; undefined when nothing is awaited. */
  text(): string | undefined {
    const entries = [...this.#entries.values()];
    const first = entries[0];
    if (!first) return undefined;
    // Waits of one kind (several names validated at once) share the line; others are counted.
    const same = entries.filter((e) => e.what === first.what);
    const others = entries.length - same.length;
    const names = same.map((e) => e.waitFor).join(', ');
    const delay =
      same.length === 1 && first.delayMs !== undefined ? ` of ${formatElapsed(first.delayMs + 999)}` : '';
    const time = ` (${formatElapsed(this.#now() - first.since)}${delay})${others > 0 ? ` +${others} more` : ''}`;
    const head = `  ${first.what}: `;
    const width = (this.#stream.columns ?? 0) > 10 ? this.#stream.columns! - 1 : 79;
    const room = width - head.length - time.length;
    // The names give way first: the line must fit, or the terminal wraps it and "\r" no longer clears it.
    if (room >= names.length) return `${head}${names}${time}`;
    if (room > 1) return `${head}${names.slice(0, room - 1)}…${time}`;
    return `${head}${time}`.slice(0, width);
  }

  #changed(): void {
    if (this.#entries.size === 0) {
      this.#erase();
      if (this.#timer) clearInterval(this.#timer);
      this.#timer = undefined;
      this.#unhook();
      return;
    }
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#draw(), this.#tickMs);
      this.#timer.unref();
    }
    this.#draw();
  }

  #draw(): void {
    const text = this.text();
    if (text === undefined || this.#hidden > 0) return;
    this.#hook();
    this.#stream.write(`${CLEAR}${sanitizeText(text)}`);
    this.#shown = true;
  }

  #erase(): void {
    if (!this.#shown) return;
    this.#stream.write(CLEAR);
    this.#shown = false;
  }

  // While the line is up: an exit clears it; a fatal signal clears it, then ends the process as the
  // signal would have (the listener is gone by then, so the default action runs).
  readonly #onExit = (): void => this.#erase();
  readonly #onSignal = (signal: NodeJS.Signals): void => {
    this.#erase();
    this.#unhook();
    process.kill(process.pid, signal);
  };

  #hook(): void {
    if (this.#hooked || !this.#handleSignals) return;
    this.#hooked = true;
    process.on('exit', this.#onExit);
    for (const s of SIGNALS) process.once(s, this.#onSignal);
  }

  #unhook(): void {
    if (!this.#hooked) return;
    this.#hooked = false;
    process.removeListener('exit', this.#onExit);
    for (const s of SIGNALS) process.removeListener(s, this.#onSignal);
  }
}
