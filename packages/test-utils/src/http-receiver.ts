import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

/** A request as the stand-in receiver got it. */
export interface Received {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * A small Hono app on 127.0.0.1 (for alert tests) standing in for Slack, PagerDuty, Twilio or a webhook receiver: it records
 * every request and answers with `status(n)` for the n-th request (default: `ok`).
 */
export async function startReceiver(options: { ok?: number; status?: (n: number) => number } = {}) {
  const requests: Received[] = [];
  const app = new Hono();
  app.all('*', async (c) => {
    const body = await c.req.text();
    requests.push({ method: c.req.method, path: new URL(c.req.url).pathname, headers: c.req.header(), body });
    const status = options.status?.(requests.length) ?? options.ok ?? 200;
    return c.body(status < 300 ? '{"ok":true}' : '{"error":"no"}', status as 200, { 'content-type': 'application/json' });
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A port nothing listens on: a receiver that is down. */
export async function deadUrl(): Promise<string> {
  const r = await startReceiver();
  await r.close();
  return r.url;
}
