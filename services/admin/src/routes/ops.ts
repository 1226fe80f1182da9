import type { FastifyInstance } from 'fastify';
import type { AdminDeps } from '../deps.js';

/**
 * Operations endpoints, without the bearer (probes and scrapers carry no secret):
 * /healthz 200 while the process runs; /readyz 200 when the backends answer, 503 otherwise or
 * while draining; /metrics in the Prometheus text format when a registry is given.
 */
export function opsRoutes(app: FastifyInstance, deps: AdminDeps, state: { draining: boolean }): void {
  const config = { public: true };
  const text = { 200: { type: 'string' }, 503: { type: 'string' } };
  app.get(
    '/healthz',
    { config, schema: { summary: 'Liveness', tags: ['ops'], response: text } },
    async (_r, reply) => reply.type('text/plain; charset=utf-8').send('ok\n'),
  );
  app.get(
    '/readyz',
    { config, schema: { summary: 'Readiness', tags: ['ops'], response: text } },
    async (_r, reply) => {
      let ok = !state.draining;
      if (ok && deps.ready) ok = await deps.ready().catch(() => false);
      return reply
        .code(ok ? 200 : 503)
        .type('text/plain; charset=utf-8')
        .send(ok ? 'ready\n' : state.draining ? 'draining\n' : 'backends unreachable\n');
    },
  );
  const metrics = deps.metrics;
  if (metrics) {
    app.get(
      '/metrics',
      { config, schema: { summary: 'Prometheus metrics', tags: ['ops'] } },
      async (_r, reply) => reply.type(metrics.contentType).send(await metrics.metrics()),
    );
  }
}
