import type { Server } from 'node:net';
import { SolverError } from '../errors/base.ts';

/** Listens on host:port, turning "address in use" and "permission denied" into errors that say what to do. */
export function listen(server: Server, type: string, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      const where = `${host ?? '*'}:${port}`;
      const hint =
        err.code === 'EADDRINUSE'
          ? `port ${where} is in use by another program; stop it, or serve the challenge through it (webroot) instead`
          : err.code === 'EACCES'
            ? `not allowed to listen on ${where}; ports below 1024 need root or CAP_NET_BIND_SERVICE`
            : `cannot listen on ${where}: ${err.message}`;
      reject(new SolverError(type, where, hint, { cause: err }));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** Closes a server and every connection it still holds. */
export function close(server: Server & { closeAllConnections?: () => void }): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}

/**
 * Reference-counted listener: the first present opens it, the last cleanup closes it, so one
 * listener serves every name of an order.
 */
export class SharedListener {
  readonly #open: () => Promise<void>;
  readonly #close: () => Promise<void>;
  #users = 0;
  #opening: Promise<void> | undefined;

  constructor(open: () => Promise<void>, closeFn: () => Promise<void>) {
    this.#open = open;
    this.#close = closeFn;
  }

  async acquire(): Promise<void> {
    this.#users++;
    try {
      this.#opening ??= this.#open();
      await this.#opening;
    } catch (err) {
      this.#users--;
      this.#opening = undefined;
      throw err;
    }
  }

  async release(): Promise<void> {
    if (this.#users === 0) return;
    this.#users--;
    if (this.#users === 0 && this.#opening) {
      this.#opening = undefined;
      await this.#close();
    }
  }
}
