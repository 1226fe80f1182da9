import { type AdminApp, createAdminApp } from './app.js';
import type { AdminDeps } from './deps.js';

export interface AdminServer {
  readonly port: number;
  readonly admin: AdminApp;
  /** /readyz answers 503 from now on. */
  setDraining(): void;
  /** Stops listening after in-flight requests. Idempotent. */
  close(): Promise<void>;
}

/** Builds the admin API and listens on host:port (0 = a free port). */
export async function startAdminServer(
  deps: AdminDeps,
  where: { host: string; port: number },
): Promise<AdminServer> {
  const admin = await createAdminApp(deps);
  await admin.app.listen({ host: where.host, port: where.port });
  const address = admin.app.server.address();
  const port = typeof address === 'object' && address ? address.port : where.port;
  let closing: Promise<void> | undefined;
  return {
    port,
    admin,
    setDraining: () => admin.setDraining(),
    close() {
      closing ??= admin.app.close();
      return closing;
    },
  };
}
