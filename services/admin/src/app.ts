/**
 * The admin HTTP API (protocol.md §7): JSON over HTTP on its own port, bearer-secret protected,
 * requests validated against JSON schemas, the OpenAPI document generated from the same schemas
 * and served at /openapi.json. Paths and examples: docs/admin-api.md.
 */
import swagger from '@fastify/swagger';
import { isImError, Status } from '@im/protocol';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { bearerCheck } from './auth.js';
import type { AdminDeps } from './deps.js';
import { chatroomRoutes } from './routes/chatrooms.js';
import { demoRoutes } from './routes/demo.js';
import { groupRoutes } from './routes/groups.js';
import { opsRoutes } from './routes/ops.js';
import { serverRoutes } from './routes/server.js';
import { tokenRoutes } from './routes/tokens.js';
import { userRoutes } from './routes/users.js';
import { ID_MAX_LENGTH } from './schemas.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without the bearer secret (probes, scrapers, the OpenAPI document). */
    public?: boolean;
  }
}

export interface AdminApp {
  app: FastifyInstance;
  /** From now on /readyz answers 503 (shutdown). */
  setDraining(): void;
}

/** Contract statuses from the services (ImError) → HTTP. */
const HTTP_STATUS: Record<number, number> = {
  [Status.BAD_REQUEST]: 400,
  [Status.UNAUTHORIZED]: 401,
  [Status.FORBIDDEN]: 403,
  [Status.NOT_FOUND]: 404,
  [Status.TOO_MANY_REQUESTS]: 429,
  [Status.UNSUPPORTED]: 501,
  [Status.UNAVAILABLE]: 503,
};

export async function createAdminApp(deps: AdminDeps): Promise<AdminApp> {
  const authorized = bearerCheck(deps.secret);
  const state = { draining: false };
  const app: FastifyInstance = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger as FastifyBaseLogger } : { logger: false }),
    // Ids are checked by the schemas (400 with a reason), not cut off by the router (414).
    routerOptions: { maxParamLength: 4 * ID_MAX_LENGTH },
    // Strict validation: a wrong type or an unknown field is a 400, never silently coerced or dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  });

  // Registered (and awaited) before the routes, so its onRoute hook sees every one of them.
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'IM admin API',
        version: '1',
        description: 'Operator API of the IM server (protocol.md §7). Examples: docs/admin-api.md.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.config.public) return;
    if (!authorized(req.headers.authorization)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ statusCode: 401, error: 'Unauthorized', message: 'missing or wrong bearer secret' });
    }
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation) {
      return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: err.message });
    }
    if (isImError(err)) {
      const code = HTTP_STATUS[err.status] ?? 500;
      return reply.code(code).send({ statusCode: code, error: errorName(code), message: err.message });
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      // Fastify's own client errors: malformed JSON, wrong content type, body too large.
      return reply
        .code(err.statusCode)
        .send({ statusCode: err.statusCode, error: errorName(err.statusCode), message: err.message });
    }
    req.log.error({ err }, 'admin request failed');
    return reply
      .code(500)
      .send({ statusCode: 500, error: 'Internal Server Error', message: 'internal error' });
  });

  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({
      statusCode: 404,
      error: 'Not Found',
      message: `no route ${req.method} ${req.url.split('?')[0]}`,
    }),
  );

  opsRoutes(app, deps, state);
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  tokenRoutes(app, deps);
  groupRoutes(app, deps);
  chatroomRoutes(app, deps);
  userRoutes(app, deps);
  serverRoutes(app, deps);
  demoRoutes(app, deps);

  await app.ready();
  return {
    app,
    setDraining() {
      state.draining = true;
    },
  };
}

function errorName(code: number): string {
  switch (code) {
    case 400:
      return 'Bad Request';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 404:
      return 'Not Found';
    case 409:
      return 'Conflict';
    case 413:
      return 'Payload Too Large';
    case 415:
      return 'Unsupported Media Type';
    case 429:
      return 'Too Many Requests';
    case 501:
      return 'Not Implemented';
    case 503:
      return 'Service Unavailable';
    default:
      return code >= 500 ? 'Internal Server Error' : 'Bad Request';
  }
}
