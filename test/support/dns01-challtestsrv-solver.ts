import type { ChallengeContext, Solver } from '../../src/index.ts';
import type { ChallTestSrv } from './challtestsrv.ts';

/** A test-only dns-01 solver that publishes TXT records through pebble-challtestsrv's management API. */
export function challtestsrvDnsSolver(dns: ChallTestSrv): Solver & { presented: string[] } {
  const presented: string[] = [];
  return {
    type: 'dns-01',
    presented,
    async present(ctx: ChallengeContext) {
      presented.push(ctx.challenge.dnsRecordName);
      await dns.addTxt(ctx.challenge.dnsRecordName, ctx.challenge.dnsTxtValue);
    },
    async cleanup(ctx: ChallengeContext) {
      await dns.clearTxt(ctx.challenge.dnsRecordName);
    },
  };
}
