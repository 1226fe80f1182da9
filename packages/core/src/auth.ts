import { ImError, Status } from '@im/protocol';
import { errors, jwtVerify, SignJWT } from 'jose';

/**
 * Checks LoginRequest.token (protocol.md §5 LoginRequest: a JWT whose `sub` equals userId).
 * Rejects with ImError(UNAUTHORIZED, reason). The reason never contains the token.
 */
export interface TokenVerifier {
  verify(token: string, userId: string): Promise<void>;
}

/** Tolerated difference between our clock and the issuer's, for exp and nbf. */
export const TOKEN_CLOCK_SKEW_SECONDS = 30;

/** HS256 tokens signed with a shared secret (config auth.jwtSecret). `exp` is required. */
export class Hs256Verifier implements TokenVerifier {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    if (!secret) throw new Error('Hs256Verifier needs a non-empty secret (IM_JWT_SECRET)');
    this.key = new TextEncoder().encode(secret);
  }

  async verify(token: string, userId: string): Promise<void> {
    if (!token) throw new ImError(Status.UNAUTHORIZED, 'missing token');
    try {
      await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        clockTolerance: TOKEN_CLOCK_SKEW_SECONDS,
        requiredClaims: ['exp', 'sub'],
        subject: userId,
      });
    } catch (e) {
      throw new ImError(Status.UNAUTHORIZED, reason(e));
    }
  }
}

function reason(e: unknown): string {
  if (e instanceof errors.JWTExpired) return 'token expired';
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'sub') return 'token subject does not match userId';
    if (e.claim === 'nbf') return 'token not yet valid';
    return `token claim "${e.claim}" invalid or missing`;
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) return 'token signature invalid';
  if (e instanceof errors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
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
