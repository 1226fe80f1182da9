import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The admin API's bearer secret (protocol.md §7: bearer-secret protected). Compared as SHA-256
 * digests with timingSafeEqual, so neither the length nor a prefix of the secret leaks by timing.
 */
export function bearerCheck(secret: string): (authorization: string | undefined) => boolean {
  if (!secret) throw new Error('the admin API needs a non-empty secret (IM_ADMIN_SECRET)');
  const expected = digest(secret);
  return (authorization) => {
    const m = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
    return m !== null && timingSafeEqual(digest((m[1] as string).trim()), expected);
  };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
