/** Frame status codes (protocol.md §3): 0 in requests, the result code in responses. */
export const Status = {
  OK: 0,
  BAD_REQUEST: 1,
  UNAUTHORIZED: 2,
  FORBIDDEN: 3,
  NOT_FOUND: 4,
  TOO_MANY_REQUESTS: 5,
  UNSUPPORTED: 6,
  FRAME_TOO_LARGE: 7,
  EXPIRED: 8,
  UNAVAILABLE: 9,
  INTERNAL: 10,
  KICKED: 11,
} as const;

export type StatusName = keyof typeof Status;
export type StatusCode = (typeof Status)[StatusName];

export interface StatusInfo {
  code: StatusCode;
  name: StatusName;
  meaning: string;
}

/** The status table of protocol.md §3, word for word; a test checks docs/protocol.md against it. */
export const STATUS_CATALOG: readonly StatusInfo[] = [
  { code: 0, name: 'OK', meaning: 'success' },
  {
    code: 1,
    name: 'BAD_REQUEST',
    meaning: 'malformed body, invalid field, wrong flow, decrypt failure',
  },
  { code: 2, name: 'UNAUTHORIZED', meaning: 'command before LOGIN, bad or expired token' },
  {
    code: 3,
    name: 'FORBIDDEN',
    meaning:
      "authenticated but not allowed (sending as someone else, not a group member, recalling another's message)",
  },
  { code: 4, name: 'NOT_FOUND', meaning: 'unknown target, group, chatroom or message' },
  {
    code: 5,
    name: 'TOO_MANY_REQUESTS',
    meaning: 'rate limit hit; `ErrorInfo.retryAfterMs` says when to retry',
  },
  { code: 6, name: 'UNSUPPORTED', meaning: 'version, command, compression or encryption not supported' },
  { code: 7, name: 'FRAME_TOO_LARGE', meaning: 'body over the limit; the connection is closed' },
  { code: 8, name: 'EXPIRED', meaning: 'the recall window has passed' },
  {
    code: 9,
    name: 'UNAVAILABLE',
    meaning: 'a backend is down; safe to retry the same request (idempotent)',
  },
  { code: 10, name: 'INTERNAL', meaning: 'unexpected server error' },
  {
    code: 11,
    name: 'KICKED',
    meaning: '(notify) this device logged in elsewhere; the connection closes',
  },
];

const NAMES: ReadonlyMap<number, StatusName> = new Map(STATUS_CATALOG.map((s) => [s.code, s.name]));

/** The status's name, or `UNKNOWN(n)` for a code the contract does not define (for logs). */
export function statusName(n: number): string {
  return NAMES.get(n) ?? `UNKNOWN(${n})`;
}
