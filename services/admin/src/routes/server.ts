import type { FastifyInstance } from 'fastify';
import type { AdminDeps } from '../deps.js';
import { errors } from '../schemas.js';

/** GET /v1/server/public-key: the server's RSA key clients encrypt RSA (2) logins to (protocol.md §2). */
export function serverRoutes(app: FastifyInstance, deps: AdminDeps): void {
  app.get<{ Reply: { publicKey: string } | { statusCode: number; error: string; message: string } }>(
    '/v1/server/public-key',
    {
      schema: {
        summary: "The server's RSA public key (SPKI PEM) for RSA logins",
        tags: ['server'],
        response: {
          200: {
            type: 'object',
            properties: { publicKey: { type: 'string', description: 'SPKI PEM' } },
            required: ['publicKey'],
          },
          ...errors(401, 404),
        },
      },
    },
    async (_req, reply) => {
      const pem = deps.serverPublicKey?.() ?? null;
      if (!pem) {
        return reply.code(404).send({
          statusCode: 404,
          error: 'Not Found',
          message: 'this server has no RSA key (set IM_RSA_PRIVATE_KEY or IM_RSA_PRIVATE_KEY_FILE)',
        });
      }
      return { publicKey: pem };
    },
  );
}
