import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { ApiError } from './api-error.js';

/** The cookie that carries the access token after the first `?token=` load. */
export const TOKEN_COOKIE = 'syncline_token';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

function sameToken(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `host[:port]` → hostname (IPv6 in brackets). */
const hostnameOf = (host: string): string =>
  (host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!).toLowerCase();

/**
 * Access rules of the server (Jupyter's model):
 * - `Host` must be the bound address or localhost, so a DNS-rebinding page cannot reach the API by name;
 * - every `/api` route but health needs the token: the cookie set from `?token=` or `Authorization: Bearer`;
 * - state-changing requests must come from this origin (`Sec-Fetch-Site`, else `Origin`), against CSRF.
 *   Hono's own `csrf()` only looks at form content types; JSON bodies need the same check.
 * No CORS headers are ever sent, so other origins cannot read responses.
 * @example app.use('*', accessGuard({ token, allowedHosts: ['127.0.0.1'] }))
 */
export function accessGuard(opts: { token: string; allowedHosts: string[]; anyHost?: boolean }): MiddlewareHandler {
  const allowed = new Set([...LOOPBACK, ...opts.allowedHosts.map((h) => h.toLowerCase())]);
  return async (c, next) => {
    const url = new URL(c.req.url);
    // @hono/node-server builds the URL from the Host header; app.request() has only the URL.
    const host = c.req.header('host') ?? url.host;
    if (!opts.anyHost && (!host || !allowed.has(hostnameOf(host))))
      throw new ApiError('forbidden', `Host "${host ?? ''}" is not this server (use ${[...allowed][0]})`, 403);
    const method = c.req.method;
    if (!['GET', 'HEAD', 'OPTIONS'].includes(method)) {
      const site = c.req.header('sec-fetch-site');
      const origin = c.req.header('origin');
      if (site !== undefined && site !== 'same-origin' && site !== 'none')
        throw new ApiError('forbidden', `cross-site ${method} refused (Sec-Fetch-Site: ${site})`, 403);
      if (site === undefined && origin !== undefined && (origin === 'null' || new URL(origin).host !== host))
        throw new ApiError('forbidden', `cross-origin ${method} refused (Origin: ${origin})`, 403);
    }
    if (method === 'OPTIONS') throw new ApiError('forbidden', 'cross-origin requests are not served (no CORS)', 403);
    const fromQuery = url.searchParams.get('token') ?? undefined;
    if (fromQuery !== undefined && sameToken(fromQuery, opts.token)) {
      setCookie(c, TOKEN_COOKIE, opts.token, { httpOnly: true, sameSite: 'Strict', path: '/' });
      // The token leaves the address bar (and the history) once the cookie holds it.
      if (!url.pathname.startsWith('/api/') && method === 'GET') {
        url.searchParams.delete('token');
        return c.redirect(url.pathname + url.search, 302);
      }
    }
    if (url.pathname.startsWith('/api/') && url.pathname !== '/api/health') {
      const bearer = /^Bearer (.+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
      const ok = sameToken(bearer, opts.token) || sameToken(getCookie(c, TOKEN_COOKIE), opts.token);
      if (!ok)
        throw new ApiError(
          'unauthorized',
          'a token is required: open the URL printed by `syncline serve`, or send Authorization: Bearer <token>',
          401,
        );
    }
    await next();
  };
}
