/**
 * The web chat demo (config admin.webDemo, embedded mode; README "Web chat demo"): the page under
 * /demo/, the edge's WebSocket port for it, and what the page cannot get otherwise without the
 * bearer secret — a development token for the user it logs in as, and other users' published
 * public keys (protocol.md §2 End-to-end RSA: "keys are readable through the admin API").
 *
 * These answer WITHOUT the bearer secret, which is why the demo is off unless IM_WEB_DEMO=true.
 * Two guards keep other web sites out of the token route: a request from another origin (its
 * Origin header is not this page's) and a request addressed to a host NAME other than localhost
 * (DNS rebinding: an attacker's name pointed at 127.0.0.1) are refused with 403.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AdminDeps, WebDemo } from '../deps.js';
import { id } from '../schemas.js';

/** A demo token lives this long; the page asks for a new one at every login. */
export const DEMO_TOKEN_TTL_SECONDS = 3600;

/** The page's files: URL name → file in WebDemo.dir, content type. */
const FILES: Record<string, [string, string]> = {
  'index.html': ['index.html', 'text/html; charset=utf-8'],
  'style.css': ['style.css', 'text/css; charset=utf-8'],
  'app.js': ['dist/app.js', 'text/javascript; charset=utf-8'],
  'app.js.map': ['dist/app.js.map', 'application/json'],
};

const PUBLIC = { config: { public: true }, schema: { hide: true } } as const;

export function demoRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const demo = deps.webDemo;
  if (!demo) return;

  app.get('/demo', PUBLIC, async (_req, reply) => reply.redirect('/demo/'));
  app.get('/demo/', PUBLIC, async (_req, reply) => sendFile(reply, demo, 'index.html'));
  app.get<{ Params: { file: string } }>('/demo/:file', PUBLIC, async (req, reply) =>
    sendFile(reply, demo, req.params.file),
  );

  // How the page reaches the edge: the same host it was loaded from, the WebSocket port.
  app.get('/demo/config.json', PUBLIC, async () => ({ wsPort: demo.wsPort, tls: demo.tls, path: '/im' }));

  app.post<{ Body: { userId: string } }>(
    '/demo/token',
    {
      ...PUBLIC,
      schema: {
        hide: true,
        body: {
          type: 'object',
          properties: { userId: id('the user the page logs in as') },
          required: ['userId'],
          additionalProperties: false,
        },
      },
    },
    async (req, reply) => {
      const refused = sameSiteOnly(req);
      if (refused) return forbidden(reply, refused);
      const token = await demo.issueToken(req.body.userId, DEMO_TOKEN_TTL_SECONDS);
      return { userId: req.body.userId, token, expiresAt: Date.now() + DEMO_TOKEN_TTL_SECONDS * 1000 };
    },
  );

  app.get<{ Params: { userId: string } }>(
    '/demo/keys/:userId',
    { ...PUBLIC, schema: { hide: true, params: { type: 'object', properties: { userId: id('user') } } } },
    async (req, reply) => {
      const refused = sameSiteOnly(req);
      if (refused) return forbidden(reply, refused);
      const key = await deps.presence.publicKey(req.params.userId);
      if (!key) {
        return reply.code(404).send({
          statusCode: 404,
          error: 'Not Found',
          message: `${req.params.userId} has published no public key (log in once with end-to-end encryption on)`,
        });
      }
      return { userId: req.params.userId, publicKey: Buffer.from(key).toString('base64') };
    },
  );
}

async function sendFile(reply: FastifyReply, demo: WebDemo, name: string) {
  const file = FILES[name];
  if (!file) {
    return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no demo file ${name}` });
  }
  try {
    const body = await readFile(join(demo.dir, file[0]));
    return reply.type(file[1]).header('cache-control', 'no-store').send(body);
  } catch {
    return reply.code(404).send({
      statusCode: 404,
      error: 'Not Found',
      message: `${file[0]} is not built: run pnpm build:web (pnpm demo does)`,
    });
  }
}

/** Why a request may not get a token or a key, or null when it comes from the demo page itself. */
function sameSiteOnly(req: FastifyRequest): string | null {
  const host = req.headers.host ?? '';
  const hostname = host.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  if (hostname !== 'localhost' && isIP(hostname) === 0) {
    return `the web demo answers on localhost or an IP address only, not on the name "${hostname}"`;
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}` && origin !== `https://${host}`) {
    return `a request from another origin (${origin}) is refused`;
  }
  return null;
}

function forbidden(reply: FastifyReply, message: string) {
  return reply.code(403).send({ statusCode: 403, error: 'Forbidden', message });
}
