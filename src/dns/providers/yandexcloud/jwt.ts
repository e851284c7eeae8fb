// The JWT a Yandex Cloud service account exchanges for an IAM token, as "Getting an IAM token for a
// service account" documents it (https://yandex.cloud/en/docs/iam/operations/iam-token/create-for-sa):
//   header  {"typ": "JWT", "alg": "PS256", "kid": <authorized key id>}
//   payload {"iss": <service account id>, "aud": "https://iam.api.cloud.yandex.net/iam/v1/tokens",
//            "iat": <now, seconds>, "exp": <at most an hour later>}
//   signed with the authorized key's RSA private key: RSASSA-PSS, SHA-256, salt as long as the digest (JWA PS256).
import { constants, type KeyObject, sign } from 'node:crypto';

export const IAM_TOKEN_AUDIENCE = 'https://iam.api.cloud.yandex.net/iam/v1/tokens';
/** The longest lifetime Yandex accepts for the JWT. */
export const MAX_JWT_LIFETIME_S = 3600;

export interface AuthorizedKey {
  /** The key's id ("kid"). */
  readonly id: string;
  readonly serviceAccountId: string;
  readonly privateKey: KeyObject;
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** A PS256-signed JWT for the IAM token exchange, issued at `now` and valid for `lifetimeS` seconds. */
export function serviceAccountJwt(
  key: AuthorizedKey,
  now: Date,
  lifetimeS = MAX_JWT_LIFETIME_S,
  audience = IAM_TOKEN_AUDIENCE,
): string {
  const iat = Math.floor(now.getTime() / 1000);
  const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'PS256', kid: key.id }));
  const payload = b64url(
    JSON.stringify({
      iss: key.serviceAccountId,
      aud: audience,
      iat,
      exp: iat + Math.min(lifetimeS, MAX_JWT_LIFETIME_S),
    }),
  );
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), {
    key: key.privateKey,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
  });
  return `${header}.${payload}.${b64url(signature)}`;
}
