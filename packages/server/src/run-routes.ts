import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { readAlertDeliveries, type AlertDelivery } from '@syncline/alerts';
import type { HttpExchange } from '@syncline/core';
import { ApiError } from './api-error.js';
import * as S from './schemas.js';
import { apiErrors, json } from './route-helpers.js';
import { exchangePage, exchangePageOf, type ExchangePage } from './ledger-exchange-page.js';
import { liveRecord, type DebugExchange, type RunStreamEvent } from './run-manager.js';
import type { ServerContext } from './server-context.js';

/** An alert delivery as the API shows it (the run id is the route's). */
const deliveryView = ({ runId: _runId, ...d }: AlertDelivery) => d;

/**
 * Run history, one run, cancel, the live debugger (SSE) and the searchable exchange log.
 * @example app.route('/', runRoutes(ctx))
 */
export function runRoutes(ctx: ServerContext) {
  const target = () => ctx.target.describe();

  /** The sync of each finished run the debugger paged through lately (a finished run stays in its sync's ledger). */
  const finishedRuns = new Map<string, string>();

  /** A run's exchanges: from memory while this server keeps it, else from its ledger. */
  const exchangesOf = async (runId: string): Promise<DebugExchange[]> => {
    const live = ctx.runs.live(runId);
    if (live) return live.exchanges;
    const found = await ctx.runs.find(runId);
    if (!found) throw new ApiError('not_found', `no run ${runId}`, 404);
    const rows = (await ctx.runs.withLedger(found.sync, (l) => l.exchanges(runId, Number.MAX_SAFE_INTEGER))) ?? [];
    return rows.map((x: HttpExchange, i) => ({ ...x, seq: i + 1 }));
  };

  return new OpenAPIHono()
    .openapi(
      createRoute({
        method: 'get',
        path: '/api/syncs/{name}/runs',
        request: { params: S.NameParam },
        responses: { 200: json(S.RunList, 'newest first'), ...apiErrors },
      }),
      async (c) => c.json({ runs: await ctx.runs.history(c.req.valid('param').name, 50), target: target() }, 200),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/api/runs/{runId}',
        request: { params: S.RunIdParam },
        responses: { 200: json(S.RunResponse, 'one run'), ...apiErrors },
      }),
      async (c) => {
        const { runId } = c.req.valid('param');
        const live = ctx.runs.live(runId);
        if (live)
          return c.json(
            {
              run: liveRecord(live),
              failedRows: (live.result?.failures ?? []).map((f) => ({ key: f.key, code: f.code, message: f.message })),
              alerts: live.alerts.map(deliveryView),
              target: target(),
            },
            200,
          );
        const found = await ctx.runs.find(runId);
        if (!found) throw new ApiError('not_found', `no run ${runId}`, 404);
        const [failed, alerts] = (await ctx.runs.withLedger(found.sync, async (l) =>
          Promise.all([l.rowResults({ runId, status: 'failed', limit: 1000 }), readAlertDeliveries(l, runId)]),
        )) ?? [[], []];
        return c.json(
          {
            run: found.record,
            failedRows: failed.map((f) => ({ key: f.key, code: f.code, message: f.message })),
            alerts: alerts.map(deliveryView),
            target: target(),
          },
          200,
        );
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/api/runs/{runId}/cancel',
        description:
          'A clean stop, like Ctrl-C: no new calls; calls in flight finish and their confirmed rows are committed. A second cancel stops the calls in flight too.',
        request: { params: S.RunIdParam },
        responses: { 202: json(S.RunStarted, 'stopping'), 409: json(S.ErrorBody, 'the run already finished'), ...apiErrors },
      }),
      (c) => {
        const run = ctx.runs.cancel(c.req.valid('param').runId);
        return c.json({ runId: run.runId, sync: run.sync, target: target() }, 202);
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/api/runs/{runId}/events',
        description:
          'The live debugger (Server-Sent Events: phase, progress, exchange, row_failed, end). A client that connects late or reconnects with Last-Event-ID first gets what it missed, then the live tail; a finished run replays its log.',
        request: { params: S.RunIdParam },
        responses: { 200: { content: { 'text/event-stream': { schema: z.string() } }, description: 'the event stream' }, ...apiErrors },
      }),
      async (c) => {
        const { runId } = c.req.valid('param');
        const after = Number(c.req.header('last-event-id') ?? c.req.query('lastEventId') ?? 0) || 0;
        const live = ctx.runs.live(runId);
        let replay: RunStreamEvent[];
        if (live) replay = live.events;
        else {
          const found = await ctx.runs.find(runId);
          if (!found) throw new ApiError('not_found', `no run ${runId}`, 404);
          const xs = await exchangesOf(runId);
          replay = [
            ...xs.map((x, i): RunStreamEvent => ({ id: i + 1, event: 'exchange', data: x as unknown as Record<string, unknown> })),
            {
              id: xs.length + 1,
              event: 'end',
              data: { status: found.record.status, rows: found.record.counts, error: found.record.error },
            },
          ];
        }
        return streamSSE(c, async (stream) => {
          const queue: RunStreamEvent[] = [];
          let wake: (() => void) | undefined;
          let sent = after;
          const unsubscribe = live && !live.finishedAt ? live.subscribe((e) => (queue.push(e), wake?.())) : () => undefined;
          stream.onAbort(() => (unsubscribe(), wake?.()));
          const write = async (e: RunStreamEvent) => {
            if (e.id <= sent) return;
            sent = e.id;
            await stream.writeSSE({ id: String(e.id), event: e.event, data: JSON.stringify(e.data) });
          };
          for (const e of [...replay]) await write(e);
          if (!live || live.finishedAt) return;
          while (!stream.aborted) {
            while (queue.length) {
              const e = queue.shift()!;
              await write(e);
              if (e.event === 'end') return unsubscribe();
            }
            if (live.finishedAt && !queue.length) return unsubscribe();
            await new Promise<void>((r) => {
              wake = r;
              setTimeout(r, 15_000); // heartbeat wake-up: a finished run never leaves the stream open
            });
            wake = undefined;
            if (!queue.length && !stream.aborted && !live.finishedAt) await stream.write(': keep-alive\n\n');
          }
        }) as never;
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/api/runs/{runId}/exchanges',
        description:
          "The run's HTTP exchanges, filtered by status class, by row key and by request (its retry chain: `request` = the attempts' shared `idempotency-key`), in pages (`cursor` from `nextCursor`).",
        request: { params: S.RunIdParam, query: S.ExchangesQuery },
        responses: { 200: json(S.ExchangePage, 'one page'), ...apiErrors },
      }),
      async (c) => {
        const { runId } = c.req.valid('param');
        const q = c.req.valid('query');
        const start = q.cursor === undefined ? (q.offset ?? 0) : Number.parseInt(Buffer.from(q.cursor, 'base64url').toString(), 10);
        if (!Number.isSafeInteger(start) || start < 0)
          throw new ApiError('invalid_request', 'cursor: not a cursor from nextCursor', 400, { field: 'cursor' });
        const live = ctx.runs.live(runId);
        const filter = { status: q.status, key: q.key, request: q.request, offset: start, limit: q.limit };
        let page: ExchangePage;
        if (live) page = exchangePageOf(live.exchanges, filter);
        else {
          // A finished run: the page is filtered and cut in the ledger (in DuckDB for a DuckDB ledger), not read
          // whole. Which sync ran it is looked up once (opening every sync's ledger for each page of a scrolling
          // list doubled its cost).
          const sync = finishedRuns.get(runId) ?? (await ctx.runs.find(runId))?.sync;
          if (!sync) throw new ApiError('not_found', `no run ${runId}`, 404);
          finishedRuns.set(runId, sync);
          if (finishedRuns.size > 100) finishedRuns.delete(finishedRuns.keys().next().value!);
          page = (await ctx.runs.withLedger(sync, (l) => exchangePage(l, runId, filter))) ?? { json: [], total: 0, through: 0 };
        }
        const end = start + page.json.length;
        const next = end < page.total ? Buffer.from(String(end)).toString('base64url') : null;
        // The exchanges' JSON texts are joined into the body as they are (see ExchangePage.json); the rest of the
        // body is serialised as usual. Its shape is S.ExchangePage's, as the OpenAPI document says.
        const rest = JSON.stringify({ nextCursor: next, total: page.total, through: page.through, target: target() });
        return c.body(`{"exchanges":[${page.json.join(',')}],${rest.slice(1)}`, 200, {
          'content-type': 'application/json',
        }) as never;
      },
    );
}
