import { InvalidInputError } from '../errors/base.ts';

/** Directory URLs of public ACME CAs, by the short names users type. */
export const caPresets = {
  letsencrypt: 'https://acme-v02.api.letsencrypt.org/directory',
  'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
  zerossl: 'https://acme.zerossl.com/v2/DV90',
  google: 'https://dv.acme-v02.api.pki.goog/directory',
  'google-staging': 'https://dv.acme-v02.test-api.pki.goog/directory',
  sslcom: 'https://acme.ssl.com/sslcom-dv-rsa',
  'sslcom-ecc': 'https://acme.ssl.com/sslcom-dv-ecc',
} as const;

export type CaPreset = keyof typeof caPresets;

/** The test CA of a production one, by directory URL: where a trial run (--dry-run) orders instead. */
const stagingOf: Readonly<Record<string, CaPreset>> = {
  [caPresets.letsencrypt]: 'letsencrypt-staging',
  [caPresets.google]: 'google-staging',
};

/** The preset name of `directoryUrl`'s staging CA, when it has one. */
export function stagingPresetOf(directoryUrl: string): CaPreset | undefined {
  return stagingOf[directoryUrl];
}

/** What a CA is known to refuse, checked before any request (facts from each CA's documentation). */
export const caQuirks: Readonly<Record<string, { eabRequired?: boolean; refusesEd25519CertKeys?: boolean }>> =
  {
    [caPresets.letsencrypt]: { refusesEd25519CertKeys: true },
    [caPresets['letsencrypt-staging']]: { refusesEd25519CertKeys: true },
    [caPresets.zerossl]: { eabRequired: true, refusesEd25519CertKeys: true },
    [caPresets.google]: { eabRequired: true, refusesEd25519CertKeys: true },
    [caPresets['google-staging']]: { eabRequired: true, refusesEd25519CertKeys: true },
    [caPresets.sslcom]: { eabRequired: true, refusesEd25519CertKeys: true },
    [caPresets['sslcom-ecc']]: { eabRequired: true, refusesEd25519CertKeys: true },
  };

/** A preset name or a URL → the directory URL. Unknown names that are not URLs are refused. */
export function resolveDirectoryUrl(nameOrUrl: string): string {
  if (Object.hasOwn(caPresets, nameOrUrl)) return caPresets[nameOrUrl as CaPreset];
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(nameOrUrl)) return nameOrUrl;
  throw new InvalidInputError(
    `unknown CA ${JSON.stringify(nameOrUrl)}: give a directory URL or one of ${Object.keys(caPresets).join(', ')}`,
    nameOrUrl,
  );
}
