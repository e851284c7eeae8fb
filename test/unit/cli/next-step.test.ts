import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextStep } from '../../../src/cli/next-step.ts';
import { BadServerResponseError } from '../../../src/errors/base.ts';
import { problemToError, withProblemDetails } from '../../../src/errors/problem.ts';

const problem = (type: string, url = 'https://ca.example/acme/new-acct', detail = 'no') =>
  problemToError({ type: `urn:ietf:params:acme:error:${type}`, detail }, { url, httpStatus: 403 });

describe('nextStep: what to do after a failure', () => {
  it('an answer at --server that is no ACME directory: check --server, naming the URL', () => {
    const err = new BadServerResponseError(
      'https://ca.example/wrong is not an ACME directory: it answers HTTP 404 (404 page not found)',
      { url: 'https://ca.example/wrong', status: 404, notAcmeDirectory: true },
    );
    const next = nextStep(err)!;
    assert.match(next, /^check --server: https:\/\/ca\.example\/wrong is not an ACME directory; /);
    assert.match(next, /letsencrypt-staging/);
    assert.doesNotMatch(next, /report it to the CA/);
  });

  it('any other answer the CA should not have sent is still for the CA', () => {
    const next = nextStep(new BadServerResponseError('newAccount answered without a Location header'))!;
    assert.match(next, /report it to the CA/);
  });

  for (const type of ['unauthorized', 'malformed', 'externalAccountRequired']) {
    it(`a refused external account binding (${type}): check --eab.kid and --eab.hmac, and where the CA shows them`, () => {
      const err = withProblemDetails(problem(type), { externalAccountBinding: true });
      assert.equal(err.type, `urn:ietf:params:acme:error:${type}`, 'the same problem');
      const next = nextStep(err)!;
      assert.match(
        next,
        /^the CA refused the external account binding: check --eab\.kid and --eab\.hmac \(lego v4: --kid, --hmac; or ACMEKIT_EAB_KID, ACMEKIT_EAB_HMAC\)/,
      );
      assert.match(next, /Your CA shows them in its account pages/);
      assert.doesNotMatch(next, /CAA|the names/);
    });
  }

  it('names where ZeroSSL, Google and SSL.com show the binding', () => {
    const at = (url: string) =>
      nextStep(withProblemDetails(problem('unauthorized', url), { externalAccountBinding: true }))!;
    assert.match(at('https://acme.zerossl.com/v2/DV90/newAccount'), /ZeroSSL .*dashboard, under Developer/);
    assert.match(
      at('https://dv.acme-v02.api.pki.goog/new-account'),
      /gcloud publicca external-account-keys create/,
    );
    assert.match(at('https://acme.ssl.com/sslcom-dv-ecc/newAccount'), /SSL\.com .*API credentials/);
  });

  it('unauthorized without a binding is about the names and the account', () => {
    assert.match(nextStep(problem('unauthorized'))!, /check the names, their CAA records and the account/);
    assert.match(
      nextStep(problem('externalAccountRequired'))!,
      /needs external account binding: pass --eab\.kid/,
    );
  });

  it('a rate limit names the time in ISO 8601 UTC', () => {
    const err = problemToError(
      { type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many' },
      { retryAfter: new Date(Date.UTC(2031, 11, 7, 10, 0, 0)) },
    );
    assert.equal(
      nextStep(err),
      'the CA accepts the next attempt after 2031-12-07T10:00:00.000Z; run again then',
    );
  });
});
