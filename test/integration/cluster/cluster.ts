import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Tracked, track } from '../../support/child-process.ts';
import type { FaultProxy } from '../../support/fault-proxy.ts';
import type { PebbleServer } from '../../support/pebble.ts';
import { peek } from '../server/support.ts';

/** Helpers for the cluster tests: server processes (fixtures/node.ts) driven over IPC. */

export interface NodeConfig {
  name: string;
  backend: 'postgres' | 'redis';
  /** The store's URL, password included: sent over IPC only, never on a command line or in output. */
  url: string;
  prefix: string;
  directory: string;
  caBundle: string;
  domains: string[];
  lockTtlMs: number;
  storeCheckIntervalMs: number;
}

export type NodeCommand =
  | { cmd: 'renew'; force?: boolean }
  | { cmd: 'status' }
  | { cmd: 'presentDelay'; ms: number }
  | { cmd: 'close' };
export type NodeRequest = NodeCommand & { id: number };

export type ToParent =
  | { event: 'ready'; httpPort: number; httpsPort: number }
  | { event: 'obtained' | 'renewed'; serial: string }
  | { event: 'failed'; error: string; code: string | undefined }
  | { event: 'presenting' }
  | { event: 'log'; level: string; msg: string; obj: object }
  | { event: 'reply'; id: number; ok: boolean; error?: string; code?: string; status?: NodeStatus };

export interface NodeStatus {
  storeSync: { mode: string; notifications: number; resyncs: number; loaded: number };
  certificates: { serial: string | undefined; failures: number; lastError: string | undefined }[];
}

type Reply = Extract<ToParent, { event: 'reply' }>;

const FIXTURE = fileURLToPath(new URL('./fixtures/node.ts', import.meta.url));

/** One server process: its ports, what it reported, and commands. */
export class ClusterNode {
  readonly name: string;
  readonly messages: ToParent[] = [];
  readonly #child: ChildProcess;
  readonly #tracked: Tracked;
  readonly #pending = new Map<number, { resolve: (reply: Reply) => void; reject: (err: Error) => void }>();
  #nextId = 1;
  httpPort = 0;
  httpsPort = 0;

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.#child = child;
    this.#tracked = track(child);
    child.on('message', (message: ToParent) => {
      this.messages.push(message);
      if (message.event === 'reply') this.#pending.get(message.id)?.resolve(message);
    });
    // A process that died (kill -9) never answers: fail what waits for it instead of holding the run.
    child.once('exit', (code, signal) => {
      for (const { reject } of this.#pending.values()) {
        reject(new Error(`${name} exited (${signal ?? code}) before replying`));
      }
    });
    child.channel?.unref();
  }

  static async start(config: NodeConfig, timeoutMs = 30_000): Promise<ClusterNode> {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
    });
    const node = new ClusterNode(config.name, child);
    child.send(config);
    const ready = await node.waitFor('ready', (m) => m.event === 'ready', timeoutMs);
    if (ready.event === 'ready') {
      node.httpPort = ready.httpPort;
      node.httpsPort = ready.httpsPort;
    }
    return node;
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  get exited(): boolean {
    return this.#tracked.exited();
  }

  /** Sends a command and waits for its reply. */
  request(body: NodeCommand, timeoutMs = 30_000): Promise<Reply> {
    const id = this.#nextId++;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new Error(
            `${this.name}: no reply to ${JSON.stringify(body)} within ${timeoutMs} ms${this.diagnostics()}`,
          ),
        );
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (reply) => {
          clearTimeout(timer);
          this.#pending.delete(id);
          resolve(reply);
        },
        reject: (err) => {
          clearTimeout(timer);
          this.#pending.delete(id);
          reject(err);
        },
      });
      this.#child.send({ ...body, id });
    });
  }

  async status(): Promise<NodeStatus> {
    const reply = await this.request({ cmd: 'status' });
    return reply.status!;
  }

  /** The serial this process serves to a TLS client asking for `servername`. */
  async servedSerial(servername: string): Promise<string> {
    return (await peek(this.httpsPort, { servername, timeoutMs: 5000 })).serial;
  }

  /** Waits for a message matching `match` (one already received counts). */
  async waitFor(what: string, match: (m: ToParent) => boolean, timeoutMs = 30_000): Promise<ToParent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      if (this.exited) throw new Error(`${this.name} exited while waiting for ${what}${this.diagnostics()}`);
      if (Date.now() > deadline)
        throw new Error(`${this.name}: timed out waiting for ${what}${this.diagnostics()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.#child.kill('SIGCONT');
    await this.#tracked.stop();
  }

  /** The process's log lines and output, for a failure message (no secrets: the URL is never logged). */
  diagnostics(): string {
    const lines = this.messages
      .filter((m) => m.event !== 'reply')
      .map((m) => JSON.stringify(m))
      .slice(-40);
    return `\n--- ${this.name} ---\n${lines.join('\n')}\n${this.#tracked.logs().slice(-2000)}`;
  }
}

/** Requests for `resource` in the fault proxy's log that reached Pebble and succeeded. */
export function succeeded(proxy: FaultProxy, resource: Parameters<FaultProxy['requests']>[0]): number {
  return proxy.requests(resource, 'POST').filter((e) => e.status >= 200 && e.status < 300).length;
}

/** Orders Pebble created, from its own log (one line per newOrder it accepted). */
export function pebbleOrders(pebble: PebbleServer): number {
  return pebble
    .logs()
    .split('\n')
    .filter((l) => l.includes('Added order "')).length;
}

/** Waits until every node serves `serial` for `servername`; returns how long that took. */
export async function allServe(
  nodes: readonly ClusterNode[],
  servername: string,
  serial: string,
  timeoutMs: number,
): Promise<number> {
  const started = Date.now();
  const last = new Map<string, string>();
  for (;;) {
    const served = await Promise.all(
      nodes.map((n) => n.servedSerial(servername).catch((e: Error) => e.message)),
    );
    for (const [i, n] of nodes.entries()) last.set(n.name, served[i]!);
    if (served.every((s) => s === serial)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) {
      throw new Error(
        `not every node serves ${serial} after ${timeoutMs} ms: ${JSON.stringify(Object.fromEntries(last))}${nodes.map((n) => n.diagnostics()).join('')}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
