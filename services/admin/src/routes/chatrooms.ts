import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AdminDeps } from '../deps.js';
import { chatroomSchema, errors, id } from '../schemas.js';

const params = {
  type: 'object',
  properties: { chatroomId: id('chatroom id') },
  required: ['chatroomId'],
} as const;

function notFound(reply: FastifyReply, chatroomId: string) {
  return reply
    .code(404)
    .send({ statusCode: 404, error: 'Not Found', message: `unknown chatroom "${chatroomId}"` });
}

/** protocol.md §6 Chatrooms, §7: rooms exist once created here (CRJ to an unknown one is NOT_FOUND). */
export function chatroomRoutes(app: FastifyInstance, { chatrooms }: AdminDeps): void {
  app.post<{ Body: { chatroomId: string } }>(
    '/v1/chatrooms',
    {
      schema: {
        summary: 'Create a chatroom',
        tags: ['chatrooms'],
        body: {
          type: 'object',
          properties: { chatroomId: id('chatroom id') },
          required: ['chatroomId'],
          additionalProperties: false,
        },
        response: { 201: chatroomSchema, ...errors(400, 401, 409) },
      },
    },
    async (req, reply) => {
      const room = await chatrooms.createChatroom(req.body.chatroomId);
      if (!room) {
        return reply.code(409).send({
          statusCode: 409,
          error: 'Conflict',
          message: `chatroom "${req.body.chatroomId}" exists already`,
        });
      }
      return reply.code(201).send({
        chatroomId: room.id,
        createdAt: room.createdAt,
        lastActiveAt: room.lastActiveAt,
        members: 0,
      });
    },
  );

  app.get<{ Params: { chatroomId: string } }>(
    '/v1/chatrooms/:chatroomId',
    {
      schema: {
        summary: 'Read a chatroom with the number of member connections present',
        tags: ['chatrooms'],
        params,
        response: { 200: chatroomSchema, ...errors(400, 401, 404) },
      },
    },
    async (req, reply) => {
      const room = await chatrooms.getChatroom(req.params.chatroomId);
      if (!room) return notFound(reply, req.params.chatroomId);
      return {
        chatroomId: room.id,
        createdAt: room.createdAt,
        lastActiveAt: room.lastActiveAt,
        members: room.members,
      };
    },
  );

  app.delete<{ Params: { chatroomId: string } }>(
    '/v1/chatrooms/:chatroomId',
    {
      schema: {
        summary: 'Delete a chatroom: nothing more is delivered in it; CRJ to it is NOT_FOUND',
        tags: ['chatrooms'],
        params,
        response: { 204: { type: 'null' }, ...errors(400, 401, 404) },
      },
    },
    async (req, reply) => {
      if (!(await chatrooms.deleteChatroom(req.params.chatroomId)))
        return notFound(reply, req.params.chatroomId);
      return reply.code(204).send();
    },
  );
}
