/**
 * Tokens issued by a company's own auth service (protocol.md §5 LoginRequest.token: "RS256/ES256
 * via a JWKS"): the public keys come from a JWKS URL (fetched and cached by jose, refetched when a
 * token names an unknown `kid`) or a JWKS file read at start. Only asymmetric algorithms are accepted
 * here, so a key of the set can never be misused as an HMAC secret (algorithm confusion).
 */
import { readFileSync } from 'node:fs';
import { ImError, Status } from '@im/protocol';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import {
  type ClaimOptions,
  claimChecks,
  Hs256Verifier,
  type TokenVerifier,
  tokenFailureReason,
  type VerifiedToken,
  verifiedToken,
} from './auth.js';
import { ConfigError } from './config.js';

export const JWKS_ALGORITHMS = ['RS256', 'ES256'];
/** A JWKS URL that does not answer within this is UNAVAILABLE for that LOGIN (retry is safe). */
const JWKS_TIMEOUT_MS = 5_000;

export class JwksVerifier implements TokenVerifier {
  constructor(
    private readonly keys: JWTVerifyGetKey,
    private readonly opts: ClaimOptions = {},
  ) {}

  static fromUrl(url: string, opts: ClaimOptions = {}): JwksVerifier {
    return new JwksVerifier(createRemoteJWKSet(new URL(url), { timeoutDuration: JWKS_TIMEOUT_MS }), opts);
  }

  static fromFile(path: string, opts: ClaimOptions = {}): JwksVerifier {
    let jwks: JSONWebKeySet;
    try {
      jwks = JSON.parse(readFileSync(path, 'utf8')) as JSONWebKeySet;
    } catch (err) {
      throw new ConfigError(`IM_JWKS_FILE ${path} is not a readable JSON key set: ${(err as Error).message}`);
    }
    if (!Array.isArray(jwks?.keys)) throw new ConfigError(`IM_JWKS_FILE ${path} has no "keys" array`);
    return new JwksVerifier(createLocalJWKSet(jwks), opts);
  }

  async verify(token: string, userId: string): Promise<VerifiedToken> {
    if (!token) throw new ImError(Status.UNAUTHORIZED, 'missing token');
    try {
      const { payload } = await jwtVerify(token, this.keys, claimChecks(userId, this.opts, JWKS_ALGORITHMS));
      return verifiedToken(payload);
    } catch (e) {
      // The key set could not be fetched: not the client's fault, and the same LOGIN may succeed later.
      if (e instanceof errors.JWKSTimeout || (e instanceof Error && !(e instanceof errors.JOSEError))) {
        throw new ImError(Status.UNAVAILABLE, 'the token issuer key set is unreachable; retry', { cause: e });
      }
      throw new ImError(Status.UNAUTHORIZED, tokenFailureReason(e));
    }
  }
}

/** Routes a token by its header's `alg` to the verifier configured for it. */
class AlgorithmRouter implements TokenVerifier {
  constructor(
    private readonly hs256: TokenVerifier | null,
    private readonly jwks: TokenVerifier | null,
  ) {}

  async verify(token: string, userId: string): Promise<VerifiedToken> {
    if (!token) throw new ImError(Status.UNAUTHORIZED, 'missing token');
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new ImError(Status.UNAUTHORIZED, 'token malformed');
    }
    const verifier = alg === 'HS256' ? this.hs256 : alg && JWKS_ALGORITHMS.includes(alg) ? this.jwks : null;
    if (!verifier) throw new ImError(Status.UNAUTHORIZED, 'token algorithm not allowed');
    return verifier.verify(token, userId);
  }
}

export interface AuthSettings {
  jwtSecret: string;
  jwksUrl: string;
  jwksFile: string;
  jwtIssuer: string;
  jwtAudience: string;
  clockSkewSeconds: number;
  /** Keep HS256 (jwtSecret) on while a key set is configured (IM_JWT_HS256_WITH_JWKS). Default false. */
  hs256WithJwks?: boolean;
}

/** IM_JWT_SECRET is set but refused for logins (a JWKS is set, IM_JWT_HS256_WITH_JWKS is not): worth a warning. */
export function hs256SecretIgnored(auth: AuthSettings): boolean {
  return (
    auth.jwtSecret !== '' && (auth.jwksUrl !== '' || auth.jwksFile !== '') && auth.hs256WithJwks !== true
  );
}

export const HS256_IGNORED_WARNING =
  'IM_JWT_SECRET is not used for logins while a JWKS is set (IM_JWT_HS256_WITH_JWKS=true keeps HS256 tokens)';

/**
 * The verifier config.auth describes: HS256 with jwtSecret, RS256/ES256 with jwksUrl or jwksFile.
 * With a key set, HS256 tokens are refused unless hs256WithJwks: where the company's issuer is the
 * authority, a shared secret that leaked must not mint tokens too (docs/security.md, Defaults);
 * with both on, a token goes by its `alg`. ConfigError when nothing is configured.
 */
export function createTokenVerifier(auth: AuthSettings): TokenVerifier {
  const opts: ClaimOptions = {
    clockSkewSeconds: auth.clockSkewSeconds,
    issuer: auth.jwtIssuer,
    audience: auth.jwtAudience,
  };
  if (auth.jwksUrl && auth.jwksFile) throw new ConfigError('set IM_JWKS_URL or IM_JWKS_FILE, not both');
  const jwks = auth.jwksUrl
    ? JwksVerifier.fromUrl(auth.jwksUrl, opts)
    : auth.jwksFile
      ? JwksVerifier.fromFile(auth.jwksFile, opts)
      : null;
  const hs256 = auth.jwtSecret && !hs256SecretIgnored(auth) ? new Hs256Verifier(auth.jwtSecret, opts) : null;
  if (!hs256 && !jwks) {
    throw new ConfigError('no token verification configured: set IM_JWT_SECRET, IM_JWKS_URL or IM_JWKS_FILE');
  }
  return new AlgorithmRouter(hs256, jwks);
}
