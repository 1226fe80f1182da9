/**
 * The admin HTTP API from the CLI (docs/admin-api.md): `--admin URL` (default IM_ADMIN_URL, else
 * http://127.0.0.1:<IM_ADMIN_PORT or 7180>) and `--admin-secret` (default IM_ADMIN_SECRET, else
 * <IM_DATA_DIR or .data>/dev-admin-secret, the file the embedded server writes on first start).
 */
import { CliError } from './io.js';
import type { Flags } from './options.js';
import { secretFromEnvOrDevFile } from './token.js';

export const DEV_ADMIN_SECRET_FILE = 'dev-admin-secret';
export const DEFAULT_ADMIN_PORT = 7180;

type Env = Record<string, string | undefined>;

export interface AdminApi {
  readonly url: string;
  /** JSON request; resolves the parsed body of a 2xx, throws CliError with the server's reason otherwise. */
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
}

function adminSecret(flags: Flags, env: Env): Promise<string> {
  return secretFromEnvOrDevFile(
    flags['admin-secret'] || env.IM_ADMIN_SECRET,
    env,
    DEV_ADMIN_SECRET_FILE,
    'admin secret',
    'pass --admin-secret or set IM_ADMIN_SECRET',
  );
}

export async function adminApi(flags: Flags, env: Env): Promise<AdminApi> {
  const url = (
    flags.admin ??
    env.IM_ADMIN_URL ??
    `http://127.0.0.1:${env.IM_ADMIN_PORT || DEFAULT_ADMIN_PORT}`
  ).replace(/\/+$/, '');
  const secret = await adminSecret(flags, env);
  return {
    url,
    async call<T>(method: string, path: string, body?: unknown): Promise<T> {
      let res: Response;
      try {
        res = await fetch(`${url}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${secret}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (err) {
        throw new CliError(
          `cannot reach the admin API at ${url} (${(err as Error).cause ?? (err as Error).message}) — is the server running? (--admin URL)`,
        );
      }
      const text = await res.text();
      if (!res.ok) {
        let reason = text;
        try {
          reason = (JSON.parse(text) as { message?: string }).message ?? text;
        } catch {}
        throw new CliError(`admin API: ${res.status} ${res.statusText}: ${reason}`);
      }
      return (text ? JSON.parse(text) : undefined) as T;
    },
  };
}
