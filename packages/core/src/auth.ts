import { errors, type JWTVerifyOptions, SignJWT } from 'jose';
import { verifyHs256 } from './auth.hs256.js';
import { ConfigError, MIN_HS256_SECRET_BYTES } from './config.js';

/** What a valid token says about the session it opens. */
export interface VerifiedToken {
  /**
   * The token's `exp` in ms since the epoch (required by every verifier): protocol.md §6 Session,
   * a session lasts no longer than the token it logged in with.
   */
  expiresAt: number;
}

/**
 * Checks LoginRequest.token (protocol.md §5 LoginRequest: a JWT whose `sub` equals userId).
 * Rejects with ImError(UNAUTHORIZED, reason). The reason never contains the token.
 */
export interface TokenVerifier {
  verify(token: string, userId: string): Promise<VerifiedToken>;
}

/** `exp` (seconds, required by claimChecks) → VerifiedToken. */
export function verifiedToken(payload: { exp?: number }): VerifiedToken {
  return { expiresAt: (payload.exp ?? 0) * 1000 };
}

/** Tolerated difference between our clock and the issuer's, for exp and nbf. */
export const TOKEN_CLOCK_SKEW_SECONDS = 30;

/** Claim checks shared by every verifier (config auth.*). */
export interface ClaimOptions {
  /** Default TOKEN_CLOCK_SKEW_SECONDS. */
  clockSkewSeconds?: number;
  /** Required `iss` when set. */
  issuer?: string;
  /** Required `aud` when set. */
  audience?: string;
}

/** jose's options for a token of `userId`: exp and sub required, nbf and exp checked with the skew. */
export function claimChecks(userId: string, opts: ClaimOptions, algorithms: string[]): JWTVerifyOptions {
  return {
    algorithms,
    clockTolerance: opts.clockSkewSeconds ?? TOKEN_CLOCK_SKEW_SECONDS,
    requiredClaims: ['exp', 'sub'],
    subject: userId,
    issuer: opts.issuer || undefined,
    audience: opts.audience || undefined,
  };
}

/**
 * HS256 tokens signed with a shared secret (config auth.jwtSecret). `exp` is required. A secret
 * shorter than MIN_HS256_SECRET_BYTES is refused (ConfigError): a short HMAC key can be guessed
 * offline from any one token (docs/security.md, Defaults).
 */
export class Hs256Verifier implements TokenVerifier {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly opts: ClaimOptions = {},
  ) {
    if (!secret) throw new ConfigError('Hs256Verifier needs a non-empty secret (IM_JWT_SECRET)');
    this.key = new TextEncoder().encode(secret);
    if (this.key.length < MIN_HS256_SECRET_BYTES) {
      throw new ConfigError(
        `IM_JWT_SECRET is ${this.key.length} bytes; HS256 needs at least ${MIN_HS256_SECRET_BYTES} (openssl rand -base64 48)`,
      );
    }
  }

  async verify(token: string, userId: string): Promise<VerifiedToken> {
    return verifyHs256(token, this.key, userId, this.opts);
  }
}

/** A reason for the client and the log; never the token itself. */
export function tokenFailureReason(e: unknown): string {
  if (e instanceof errors.JWTExpired) return 'token expired';
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'sub') return 'token subject does not match userId';
    if (e.claim === 'nbf') return 'token not yet valid';
    return `token claim "${e.claim}" invalid or missing`;
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) return 'token signature invalid';
  if (e instanceof errors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
  if (e instanceof errors.JWKSNoMatchingKey) return 'token key id not in the key set';
  return 'token malformed';
}

/** Issues an HS256 token for userId (development, tests and the admin API's token endpoint). */
export async function signDevToken(secret: string, userId: string, ttlSeconds: number): Promise<string> {
  if (!secret) throw new Error('signDevToken needs a non-empty secret');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}
