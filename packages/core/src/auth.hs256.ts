/**
 * HS256 JWT verification with node:crypto, synchronously. jose goes through WebCrypto, whose
 * HMAC is an asynchronous job per token: ~300 µs of CPU and a promise chain at every LOGIN, the
 * largest single cost of a login storm at the edge (docs/benchmarks.md, logins). The checks are
 * jose's (auth.ts claimChecks) and fail with the same reasons (auth.ts tokenFailureReason).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ImError, Status } from '@im/protocol';
import { type ClaimOptions, TOKEN_CLOCK_SKEW_SECONDS, type VerifiedToken } from './auth.js';

const HS256_BYTES = 32;

function refuse(reason: string): never {
  throw new ImError(Status.UNAUTHORIZED, reason);
}

/** Unpadded base64url (RFC 7515 §2): its alphabet, and no length that leaves 6 bits over. */
const isBase64url = (part: string) => /^[A-Za-z0-9_-]*$/.test(part) && part.length % 4 !== 1;

/** A JSON object from a base64url segment, or undefined. */
function segment(part: string): Record<string, unknown> | undefined {
  if (!isBase64url(part)) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function claimInvalid(claim: string): never {
  refuse(`token claim "${claim}" invalid or missing`);
}

/**
 * `token`'s claims when it is an HS256 JWS signed with `key` for `userId` and valid now (exp and
 * sub required; exp, nbf within the clock skew; iss, aud when configured). Throws ImError
 * UNAUTHORIZED with a reason that never contains the token.
 */
export function verifyHs256(
  token: string,
  key: Uint8Array,
  userId: string,
  opts: ClaimOptions,
  nowMs = Date.now(),
): VerifiedToken {
  if (!token) refuse('missing token');
  const parts = token.split('.');
  if (parts.length !== 3) refuse('token malformed');
  const [h, p, s] = parts as [string, string, string];
  const header = segment(h);
  if (!header) refuse('token malformed');
  // RFC 7515 §4.1.11: a `crit` this verifier does not understand makes the token invalid (jose too).
  if (header.crit !== undefined || header.b64 !== undefined) refuse('token malformed');
  if (header.alg !== 'HS256') refuse('token algorithm not allowed');
  if (!isBase64url(s)) refuse('token malformed');
  const signature = Buffer.from(s, 'base64url');
  const expected = createHmac('sha256', key).update(`${h}.${p}`).digest();
  if (signature.length !== HS256_BYTES || !timingSafeEqual(signature, expected)) {
    refuse('token signature invalid');
  }
  const claims = segment(p);
  if (!claims) refuse('token malformed');

  const skew = opts.clockSkewSeconds ?? TOKEN_CLOCK_SKEW_SECONDS;
  const now = Math.floor(nowMs / 1000);
  const { exp, nbf, iat, sub, iss, aud } = claims;
  if (exp === undefined) claimInvalid('exp');
  if (typeof exp !== 'number' || !Number.isFinite(exp)) claimInvalid('exp');
  // jose names the claim `sub` for a missing one as for another user's: one reason for both.
  if (sub === undefined) refuse('token subject does not match userId');
  if (iat !== undefined && typeof iat !== 'number') claimInvalid('iat');
  if (nbf !== undefined) {
    if (typeof nbf !== 'number') claimInvalid('nbf');
    if (nbf > now + skew) refuse('token not yet valid');
  }
  if (exp <= now - skew) refuse('token expired');
  if (sub !== userId) refuse('token subject does not match userId');
  if (opts.issuer && iss !== opts.issuer) claimInvalid('iss');
  if (opts.audience) {
    const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
    if (!audiences.includes(opts.audience)) claimInvalid('aud');
  }
  return { expiresAt: exp * 1000 };
}
