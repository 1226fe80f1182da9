/**
 * JSON schemas of the admin API: fastify validates requests with them (a bad request is a 400 with
 * the reason) and @fastify/swagger turns them into the OpenAPI document at /openapi.json, so the
 * documentation cannot drift from what is enforced.
 */

/** User, group, chatroom and device ids: non-empty, bounded (the edge caps strings similarly). */
export const ID_MAX_LENGTH = 256;
/** Members given in one call (a 500-member group is created in one request). */
export const MEMBERS_MAX = 10_000;
/** Development tokens live at most this long. */
export const TOKEN_TTL_MAX_SECONDS = 30 * 24 * 3600;
export const TOKEN_TTL_DEFAULT_SECONDS = 24 * 3600;

export const id = (description: string) =>
  ({ type: 'string', minLength: 1, maxLength: ID_MAX_LENGTH, description }) as const;

export const idList = (description: string) =>
  ({ type: 'array', items: id('user id'), maxItems: MEMBERS_MAX, description }) as const;

/** Every 4xx/5xx body (fastify's own error shape). */
export const errorSchema = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string', description: 'why the request failed' },
  },
  required: ['statusCode', 'error', 'message'],
} as const;

export const groupSchema = {
  type: 'object',
  properties: {
    groupId: { type: 'string' },
    members: { type: 'array', items: { type: 'string' } },
    createdAt: { type: 'integer', description: 'ms since the epoch' },
  },
  required: ['groupId', 'members', 'createdAt'],
} as const;

export const chatroomSchema = {
  type: 'object',
  properties: {
    chatroomId: { type: 'string' },
    createdAt: { type: 'integer', description: 'ms since the epoch' },
    lastActiveAt: { type: 'integer', description: 'ms since the epoch (idle rooms are evicted)' },
    members: { type: 'integer', description: 'member connections present, over every edge node' },
  },
  required: ['chatroomId', 'createdAt', 'lastActiveAt'],
} as const;

export const deviceSchema = {
  type: 'object',
  properties: {
    deviceId: { type: 'string' },
    nodeId: { type: 'string', description: 'the edge node holding the connection' },
    platform: { type: 'integer' },
    epoch: { type: 'integer', description: 'connection epoch' },
  },
  required: ['deviceId', 'nodeId', 'platform', 'epoch'],
} as const;

/** Error responses a route documents, by status. */
export function errors(...codes: number[]): Record<number, typeof errorSchema> {
  return Object.fromEntries(codes.map((c) => [c, errorSchema]));
}
