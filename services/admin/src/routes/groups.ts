import type { Group } from '@im/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AdminDeps } from '../deps.js';
import { errors, groupSchema, id, idList } from '../schemas.js';

const groupParams = {
  type: 'object',
  properties: { groupId: id('group id') },
  required: ['groupId'],
} as const;

const view = (g: Group) => ({ groupId: g.id, members: g.members, createdAt: g.createdAt });

function notFound(reply: FastifyReply, groupId: string) {
  return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `unknown group "${groupId}"` });
}

/** protocol.md §6 Groups, §7: create, read, delete groups; add and remove members. */
export function groupRoutes(app: FastifyInstance, { groups }: AdminDeps): void {
  app.post<{ Body: { groupId: string; members?: string[] } }>(
    '/v1/groups',
    {
      schema: {
        summary: 'Create a group',
        tags: ['groups'],
        body: {
          type: 'object',
          properties: { groupId: id('group id'), members: idList('initial members') },
          required: ['groupId'],
          additionalProperties: false,
        },
        response: { 201: groupSchema, ...errors(400, 401, 409) },
      },
    },
    async (req, reply) => {
      const g = await groups.createGroup(req.body.groupId, req.body.members ?? []);
      if (!g) {
        return reply.code(409).send({
          statusCode: 409,
          error: 'Conflict',
          message: `group "${req.body.groupId}" exists already`,
        });
      }
      return reply.code(201).send(view(g));
    },
  );

  app.get<{ Params: { groupId: string } }>(
    '/v1/groups/:groupId',
    {
      schema: {
        summary: 'Read a group and its members',
        tags: ['groups'],
        params: groupParams,
        response: { 200: groupSchema, ...errors(400, 401, 404) },
      },
    },
    async (req, reply) => {
      const g = await groups.getGroup(req.params.groupId);
      return g ? view(g) : notFound(reply, req.params.groupId);
    },
  );

  app.delete<{ Params: { groupId: string } }>(
    '/v1/groups/:groupId',
    {
      schema: {
        summary: 'Delete a group (the messages already delivered stay in the inboxes)',
        tags: ['groups'],
        params: groupParams,
        response: { 204: { type: 'null' }, ...errors(400, 401, 404) },
      },
    },
    async (req, reply) => {
      if (!(await groups.deleteGroup(req.params.groupId))) return notFound(reply, req.params.groupId);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { groupId: string }; Body: { userIds: string[] } }>(
    '/v1/groups/:groupId/members',
    {
      schema: {
        summary: 'Add members (from the next message on); members already in are ignored',
        tags: ['groups'],
        params: groupParams,
        body: {
          type: 'object',
          properties: { userIds: { ...idList('users to add'), minItems: 1 } },
          required: ['userIds'],
          additionalProperties: false,
        },
        response: { 200: groupSchema, ...errors(400, 401, 404) },
      },
    },
    async (req, reply) => {
      const g = await groups.addMembers(req.params.groupId, req.body.userIds);
      return g ? view(g) : notFound(reply, req.params.groupId);
    },
  );

  app.delete<{ Params: { groupId: string; userId: string } }>(
    '/v1/groups/:groupId/members/:userId',
    {
      schema: {
        summary: 'Remove a member: they stop receiving; what they already have stays',
        tags: ['groups'],
        params: {
          type: 'object',
          properties: { groupId: id('group id'), userId: id('member to remove') },
          required: ['groupId', 'userId'],
        },
        response: { 200: groupSchema, ...errors(400, 401, 404) },
      },
    },
    async (req, reply) => {
      const g = await groups.removeMembers(req.params.groupId, [req.params.userId]);
      return g ? view(g) : notFound(reply, req.params.groupId);
    },
  );
}
