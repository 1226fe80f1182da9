/** A small client of the admin HTTP API for the end-to-end tests (fetch, JSON). */

export interface AdminResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export interface AdminClient {
  /** bearer: the secret to send (default the server's), or null to send none. */
  call<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    opts?: { bearer?: string | null; rawBody?: string },
  ): Promise<AdminResponse<T>>;
}

export function adminClient(baseUrl: string, secret: string): AdminClient {
  return {
    async call(method, path, body, opts = {}) {
      const bearer = opts.bearer === undefined ? secret : opts.bearer;
      const headers: Record<string, string> = {};
      if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
      let payload: string | undefined;
      if (opts.rawBody !== undefined) payload = opts.rawBody;
      else if (body !== undefined) payload = JSON.stringify(body);
      if (payload !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${baseUrl}${path}`, { method, headers, body: payload });
      const text = await res.text();
      const type = res.headers.get('content-type') ?? '';
      const parsed = type.includes('json') && text ? JSON.parse(text) : text;
      return { status: res.status, body: parsed, headers: res.headers };
    },
  };
}
