import type { FastifyInstance } from 'fastify';
import type { AdminDeps } from '../deps.js';
import { errors, id, TOKEN_TTL_DEFAULT_SECONDS, TOKEN_TTL_MAX_SECONDS } from '../schemas.js';

/** POST /v1/tokens: a development token (protocol.md §7: issue a token for a user). */
export function tokenRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const issue = deps.issueToken;
  if (!issue) return; // switched off (IM_ADMIN_DEV_TOKENS=false): the route does not exist
  app.post<{ Body: { userId: string; ttlSeconds?: number } }>(
    '/v1/tokens',
    {
      schema: {
        summary: 'Issue a development token (HS256 JWT, sub = userId) for LOGIN',
        tags: ['tokens'],
        body: {
          type: 'object',
          properties: {
            userId: id('the user the token logs in as'),
            ttlSeconds: { type: 'integer', minimum: 1, maximum: TOKEN_TTL_MAX_SECONDS },
          },
          required: ['userId'],
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              userId: { type: 'string' },
              token: { type: 'string' },
              expiresAt: { type: 'integer', description: 'ms since the epoch' },
            },
            required: ['userId', 'token', 'expiresAt'],
          },
          ...errors(400, 401),
        },
      },
    },
    async (req) => {
      const ttl = req.body.ttlSeconds ?? TOKEN_TTL_DEFAULT_SECONDS;
      const token = await issue(req.body.userId, ttl);
      return { userId: req.body.userId, token, expiresAt: Date.now() + ttl * 1000 };
    },
  );
}
