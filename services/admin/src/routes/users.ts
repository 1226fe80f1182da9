import type { FastifyInstance } from 'fastify';
import type { AdminDeps } from '../deps.js';
import { deviceSchema, errors, id } from '../schemas.js';

const userParams = {
  type: 'object',
  properties: { userId: id('user id') },
  required: ['userId'],
} as const;

/** protocol.md §7: a user's online devices (across edge nodes), kick a device, a user's public key. */
export function userRoutes(app: FastifyInstance, { presence }: AdminDeps): void {
  app.get<{ Params: { userId: string } }>(
    '/v1/users/:userId/devices',
    {
      schema: {
        summary: "The user's online devices, on every edge node (empty when offline)",
        tags: ['users'],
        params: userParams,
        response: {
          200: {
            type: 'object',
            properties: { userId: { type: 'string' }, devices: { type: 'array', items: deviceSchema } },
            required: ['userId', 'devices'],
          },
          ...errors(400, 401),
        },
      },
    },
    async (req) => {
      const routes = await presence.devices(req.params.userId);
      return {
        userId: req.params.userId,
        devices: routes.map((r) => ({
          deviceId: r.deviceId,
          nodeId: r.nodeId,
          platform: r.platform,
          epoch: r.epoch,
        })),
      };
    },
  );

  app.delete<{ Params: { userId: string; deviceId: string } }>(
    '/v1/users/:userId/devices/:deviceId',
    {
      schema: {
        summary: 'Kick a device: its connection gets LOGOUT with KICKED and is closed; its route is removed',
        tags: ['users'],
        params: {
          type: 'object',
          properties: { userId: id('user id'), deviceId: id('device id') },
          required: ['userId', 'deviceId'],
        },
        response: { 204: { type: 'null' }, ...errors(400, 401, 404) },
      },
    },
    async (req, reply) => {
      const { userId, deviceId } = req.params;
      if (!(await presence.kick(userId, deviceId))) {
        return reply.code(404).send({
          statusCode: 404,
          error: 'Not Found',
          message: `device "${deviceId}" of user "${userId}" is not online`,
        });
      }
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { userId: string } }>(
    '/v1/users/:userId/public-key',
    {
      schema: {
        summary: 'The public key the user published at LOGIN (protocol.md §2 End-to-end RSA)',
        tags: ['users'],
        params: userParams,
        response: {
          200: {
            type: 'object',
            properties: {
              userId: { type: 'string' },
              publicKey: { type: 'string', description: 'SPKI DER, base64' },
            },
            required: ['userId', 'publicKey'],
          },
          ...errors(400, 401, 404),
        },
      },
    },
    async (req, reply) => {
      const key = await presence.publicKey(req.params.userId);
      if (!key) {
        return reply.code(404).send({
          statusCode: 404,
          error: 'Not Found',
          message: `user "${req.params.userId}" has published no public key`,
        });
      }
      return { userId: req.params.userId, publicKey: Buffer.from(key).toString('base64') };
    },
  );
}
