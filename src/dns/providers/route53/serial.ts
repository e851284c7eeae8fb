import { abortable } from '../../../internal/abort.ts';

/**
 * Runs tasks with the same key one after another. Route 53 keeps all values of a name in one record
 * set, so example.com and *.example.com presented in parallel would each read the set and overwrite the
 * other's value; queued, the second sees the first.
 */
export class KeyedSerial {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, signal: AbortSignal, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    try {
      // Waiting in the queue stops with the caller's signal; the queue itself moves on regardless.
      await abortable(signal, (resolve) => {
        previous.then(() => resolve(undefined));
        return () => {};
      });
      return await task();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
