import { X509Certificate } from 'node:crypto';
import type { Server } from 'node:net';
import { connect, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import type { PebbleServer } from '../../support/pebble.ts';

/** Helpers shared by the auto-https tests: real TLS clients on loopback. */

export interface Handshake {
  serial: string;
  alpn: string | false | null;
  authorized: boolean;
  authorizationError: string | undefined;
  cert: DetailedPeerCertificate;
  socket: TLSSocket;
}

/** A TLS handshake to 127.0.0.1:port; resolves with what the client saw, the socket left open. */
export function handshake(
  port: number,
  opts: {
    servername?: string;
    ca?: string[];
    ALPNProtocols?: string[];
    maxVersion?: 'TLSv1.2' | 'TLSv1.3';
    timeoutMs?: number;
  } = {},
): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      ...(opts.servername ? { servername: opts.servername } : {}),
      ...(opts.ca ? { ca: opts.ca } : {}),
      ...(opts.ALPNProtocols ? { ALPNProtocols: opts.ALPNProtocols } : {}),
      ...(opts.maxVersion ? { maxVersion: opts.maxVersion } : {}),
      // Verification is asserted by the tests through `authorized`, so a bad chain is visible, not thrown.
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => socket.destroy(new Error('handshake timeout')), opts.timeoutMs ?? 20_000);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const cert = socket.getPeerCertificate(true);
      resolve({
        serial: cert.serialNumber.toLowerCase(),
        alpn: socket.alpnProtocol,
        authorized: socket.authorized,
        authorizationError:
          socket.authorizationError?.message ?? (socket.authorizationError as unknown as string),
        cert,
        socket,
      });
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** One handshake, closed at once. */
export async function peek(port: number, opts: Parameters<typeof handshake>[1] = {}): Promise<Handshake> {
  const h = await handshake(port, opts);
  h.socket.destroy();
  return h;
}

/** Sends one HTTP/1.1 request on an open TLS socket and resolves with the whole response text. */
export function requestOn(socket: TLSSocket, host: string, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      const head = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text)?.[1];
      if (head >= 0 && length !== undefined && text.length >= head + 4 + Number(length)) {
        socket.off('data', onData);
        socket.off('error', reject);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  });
}

export function listen<S extends Server>(server: S, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

export function closeServer(server: Server & { closeAllConnections?: () => void }): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}

export function serialOf(pem: string): string {
  return new X509Certificate(pem).serialNumber.toLowerCase();
}

/** Waits for `predicate` (polled), failing after timeoutMs with `what`. */
export async function until(what: string, predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** autoHttps options for one name on Pebble over http-01: spread them, then add the store and the rest. */
export function onPebble(pebble: PebbleServer, name: string) {
  return {
    domains: [name],
    challenges: ['http-01' as const],
    acceptTos: true,
    directory: pebble.directoryUrl,
    caBundle: pebble.caBundle,
  };
}
