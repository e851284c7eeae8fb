import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadServerResponseError } from '../../../src/errors/base.ts';
import { AcmeProblemError } from '../../../src/errors/problem.ts';
import { AcmeHttp } from '../../../src/protocol/signed-request.ts';
import type { HttpResponse, HttpTransport } from '../../../src/protocol/transport.ts';

const URL = 'https://ca.example/acme/directory';

/** An AcmeHttp whose every GET gets this answer. */
function http(status: number, body: string, headers: Record<string, string> = {}): AcmeHttp {
  const transport = {
    request: async (_method: string, url: string): Promise<HttpResponse> => ({
      url,
      status,
      headers,
      body: Buffer.from(body),
    }),
    close: () => {},
  } as unknown as HttpTransport;
  return new AcmeHttp(URL, { transport, retry: { attempts: 1 } });
}

async function directoryError(h: AcmeHttp): Promise<unknown> {
  return h.directory().then(
    () => assert.fail('no error'),
    (err: unknown) => err,
  );
}

describe('the directory: an answer that is no ACME directory says so, naming the URL', () => {
  it('a 404 page', async () => {
    const err = await directoryError(http(404, '404 page not found', { 'content-type': 'text/plain' }));
    assert.ok(err instanceof BadServerResponseError);
    assert.equal(err.notAcmeDirectory, true);
    assert.equal(err.url, URL);
    assert.equal(err.message, `${URL} is not an ACME directory: it answers HTTP 404 (404 page not found)`);
  });

  it('a 404 problem document', async () => {
    const body = JSON.stringify({
      type: 'urn:ietf:params:acme:error:malformed',
      detail: 'Endpoint not found',
    });
    const err = await directoryError(http(404, body, { 'content-type': 'application/problem+json' }));
    assert.ok(err instanceof BadServerResponseError && err.notAcmeDirectory, String(err));
    assert.match(
      err.message,
      /is not an ACME directory: it answers HTTP 404 \(malformed: Endpoint not found\)/,
    );
    assert.ok(err.cause instanceof AcmeProblemError);
  });

  it('a web page with 200, and JSON of another shape', async () => {
    const page = await directoryError(http(200, '<html>welcome</html>', { 'content-type': 'text/html' }));
    assert.ok(page instanceof BadServerResponseError && page.notAcmeDirectory);
    assert.match(
      page.message,
      /is not an ACME directory: the server's response is not valid JSON \(content-type text\/html\)/,
    );
    const json = await directoryError(http(200, '{"hello":"world"}', { 'content-type': 'application/json' }));
    assert.ok(json instanceof BadServerResponseError && json.notAcmeDirectory);
    assert.match(json.message, /newNonce/);
  });

  it('a CA that is down or rate limiting is not called a wrong URL', async () => {
    const down = await directoryError(http(503, 'maintenance'));
    assert.ok(down instanceof AcmeProblemError, String(down));
    const limited = await directoryError(http(429, 'slow down'));
    assert.ok(limited instanceof AcmeProblemError, String(limited));
  });
});
