import { abortable } from './abort.ts';

/** Time as the library sees it; injectable so renewal and polling tests run instantly. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    abortable(signal, (resolve) => {
      const t = setTimeout(resolve, Math.max(0, ms));
      return () => clearTimeout(t);
    }),
};
