import { Readable } from 'node:stream';
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { knockDestination, fieldCatalog } from '@syncline/destination-knock';
import { redact } from '@syncline/core';
import { ApiError } from './api-error.js';
import * as S from './schemas.js';
import { apiErrors, json } from './route-helpers.js';
import type { ServerContext } from './server-context.js';
import type { TableInfo } from './sandbox-protocol.js';
import { dropTable, listTableFiles, receiveUpload, removeTable, restoreTable, storeUpload, tableSlot } from './workspace.js';
import { receiveMultipart } from './multipart-upload.js';
import { queryHistory } from './query-history.js';
import { reimportCsv } from './reimport-csv.js';

/**
 * Health, tables, SQL, completions and the Knock catalog/target routes.
 * @example app.route('/', dataRoutes(ctx))
 */
export function dataRoutes(ctx: ServerContext) {
  let described: { signature: string; tables: TableInfo[] } | undefined;
  /** Tables with columns and row counts; the sandbox re-reads them only when the files changed. */
  const tables = async () => {
    const files = listTableFiles(ctx.ws);
    const signature = JSON.stringify(files.map((f) => [f.name, f.path, f.bytes]));
    if (described?.signature !== signature) described = { signature, tables: await ctx.sandbox.refresh() };
    const info = described.tables;
    return files.map((f) => {
      const t = info.find((x) => x.name === f.name);
      return {
        name: f.name,
        file: f.file,
        format: f.format,
        bytes: f.bytes,
        columns: t?.columns ?? [],
        rowCount: t?.rowCount ?? 0,
        ...(t?.error ? { error: t.error } : {}),
        ...(t?.csv ? { csv: t.csv } : {}),
      };
    });
  };
  const target = () => ctx.target.describe();
  const history = queryHistory(ctx.ws);

  return new OpenAPIHono()
    .openapi(
      createRoute({ method: 'get', path: '/api/health', responses: { 200: json(S.Health, 'the server answers; no token needed') } }),
      (c) => c.json({ ok: true, version: ctx.version, target: target() }, 200),
    )
    .openapi(
      createRoute({ method: 'get', path: '/api/tables', responses: { 200: json(S.Tables, 'the workspace tables'), ...apiErrors } }),
      async (c) => c.json({ tables: await tables(), target: target() }, 200),
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/api/tables',
        description:
          'Upload a CSV, Parquet or JSON file as a table: the raw request body (`name` in the query), or a `multipart/form-data` form with a `file` part (and an optional `name` field; else the file name gives it). The format is read from the content; the file is streamed to disk under a generated name.',
        request: {
          query: S.UploadQuery,
          body: {
            content: {
              'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) },
              // A plain schema, not zod: @hono/zod-openapi would validate a zod form schema by reading the whole
              // body into memory (`parseBody`); the route streams it instead.
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  required: ['file'],
                  properties: {
                    file: { type: 'string', format: 'binary', description: 'the file' },
                    name: { type: 'string', description: 'table name (else from the query, else from the file name)' },
                  },
                },
              },
            },
          },
        },
        responses: {
          201: json(S.Table, 'the new table'),
          409: json(S.ErrorBody, 'a table of that name exists'),
          413: json(S.ErrorBody, 'over the size limit'),
          415: json(S.ErrorBody, 'not CSV, Parquet or JSON'),
          ...apiErrors,
        },
      }),
      async (c) => {
        const q = c.req.valid('query');
        const replace = q.replace === 'true';
        const multipart = /^multipart\/form-data\b/i.test(c.req.header('content-type') ?? '');
        const declared = Number(c.req.header('content-length') ?? NaN);
        // A form carries a little besides the file (boundaries, part headers, a short name field).
        if (declared > ctx.uploadLimitBytes + (multipart ? 64 * 1024 : 0))
          throw new ApiError('too_large', `the upload (${declared} bytes) is larger than the limit of ${ctx.uploadLimitBytes} bytes`, 413);
        if (q.name) tableSlot(ctx.ws, q.name, replace); // a clash is told before the upload is read
        let saved: Awaited<ReturnType<typeof storeUpload>>;
        if (multipart) {
          const upload = await receiveMultipart(ctx.ws, c.req.raw, ctx.uploadLimitBytes);
          saved = await storeUpload(ctx.ws, upload, { name: q.name ?? upload.name ?? upload.filename, replace });
        } else {
          if (!q.name)
            throw new ApiError('invalid_request', 'query name: required with a raw body (or send a multipart form)', 400, {
              field: 'name',
            });
          if (!c.req.raw.body) throw new ApiError('invalid_request', 'the upload is empty: send the file as the request body', 400);
          const received = await receiveUpload(ctx.ws, Readable.fromWeb(c.req.raw.body as never), ctx.uploadLimitBytes);
          saved = await storeUpload(ctx.ws, received, { name: q.name, replace });
        }
        const table = (await tables()).find((t) => t.name === saved.name)!;
        if (table.error) {
          await dropTable(ctx.ws, saved.name);
          throw new ApiError('invalid_request', `${saved.file}: ${table.error}`, 400);
        }
        return c.json(table, 201);
      },
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: '/api/tables/{name}',
        description:
          'Removes a table. Its file is kept aside (`data/.removed/`) until another table is removed, so `POST /api/tables/{name}/restore` can put it back without an upload.',
        request: { params: S.NameParam },
        responses: { 200: json(S.Ok, 'removed'), ...apiErrors },
      }),
      async (c) => {
        await removeTable(ctx.ws, c.req.valid('param').name);
        await tables();
        return c.json({ ok: true, target: target() }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/api/tables/{name}/restore',
        description: 'Undoes the last removal: the table comes back from its kept file, as it was.',
        request: { params: S.NameParam },
        responses: {
          ...apiErrors,
          200: json(S.Table, 'the table, back'),
          404: json(S.ErrorBody, 'not kept (another table was removed since)'),
          409: json(S.ErrorBody, 'a table of that name exists again'),
        },
      }),
      async (c) => {
        const { name } = c.req.valid('param');
        await restoreTable(ctx.ws, name);
        return c.json(
          (await tables()).find((t) => t.name === name)!,
          200,
        );
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/api/tables/{name}/reimport',
        description:
          'Reads a CSV table again with DuckDB `read_csv` options (`delimiter`, `quote`, `header`) and rewrites its file as plain CSV; the uploaded file is kept in `data/.originals/` and each re-import reads it. A file the options cannot read stays as it was; the error names the file and the line.',
        request: { params: S.NameParam, body: { content: { 'application/json': { schema: S.ReimportRequest } }, required: true } },
        responses: { 200: json(S.Table, 'the table, read with the options'), ...apiErrors },
      }),
      async (c) => {
        const { name } = c.req.valid('param');
        await reimportCsv(ctx.ws, name, c.req.valid('json'));
        described = undefined; // the file may keep its size: describe the tables again
        const table = (await tables()).find((t) => t.name === name)!;
        return c.json({ ...table, ...(table.csv ? { csv: { ...table.csv, unsure: false } } : {}) }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/api/query',
        description: "Runs one read statement in the SQL sandbox. Errors carry DuckDB's message and the line/column it points at.",
        request: { body: { content: { 'application/json': { schema: S.QueryRequest } }, required: true } },
        responses: {
          200: json(S.QueryResponse, 'the first `limit` rows and the total'),
          504: json(S.ErrorBody, 'statement timeout'),
          ...apiErrors,
        },
      }),
      async (c) => {
        const { sql, limit, history: keep } = c.req.valid('json');
        await tables(); // an upload made by hand in data/ is visible at once
        // A client that goes away (the playground's Stop aborts its request) interrupts the statement.
        const r = await ctx.sandbox.query(sql, limit, c.req.raw.signal);
        if (keep) await history.add({ sql, at: new Date().toISOString(), rows: r.total, elapsedMs: r.elapsedMs });
        return c.json({ ...r, target: target() }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/api/query/profile',
        description:
          "Profiles every column of one read statement's whole result in the SQL sandbox: nulls, distinct values, min/max and the top values (not a sample of the rows).",
        request: { body: { content: { 'application/json': { schema: S.ProfileRequest } }, required: true } },
        responses: { 200: json(S.ProfileResponse, 'per column of the result'), 504: json(S.ErrorBody, 'statement timeout'), ...apiErrors },
      }),
      async (c) => {
        const { sql } = c.req.valid('json');
        await tables();
        return c.json({ ...(await ctx.sandbox.profile(sql, c.req.raw.signal)), target: target() }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/api/query/history',
        description: 'The statements the playground ran (`history: true`), newest first, kept in the workspace.',
        responses: { 200: json(S.HistoryResponse, 'the query history'), ...apiErrors },
      }),
      (c) => c.json({ entries: history.list(), target: target() }, 200),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/api/completions',
        responses: { 200: json(S.CompletionsResponse, 'for the editor'), ...apiErrors },
      }),
      async (c) => {
        await tables();
        return c.json({ ...(await ctx.sandbox.completions()), target: target() }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/api/destinations/knock/fields',
        request: { query: S.FieldsQuery },
        responses: { 200: json(S.FieldsResponse, 'the Knock field catalog of the sync type'), ...apiErrors },
      }),
      (c) => {
        const { type } = c.req.valid('query');
        const fields = fieldCatalog({ type }).map((f) => ({
          name: f.name,
          type: f.type,
          description: f.description,
          ...(f.rule ? { rule: f.rule } : {}),
          ...(f.required !== undefined ? { required: f.required } : {}),
        }));
        return c.json({ type, fields, target: target() }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/api/destinations/knock/check',
        description: 'One cheap read call with the active key (GET /v1/users?page_size=1). Never returns the key.',
        responses: { 200: json(S.CheckResponse, 'whether the key works'), ...apiErrors },
      }),
      async (c) => {
        const { apiKey, baseUrl } = ctx.target.credentials();
        const knock = knockDestination({ apiKey, baseUrl, retry: { maxAttempts: 1 } });
        try {
          await knock.check!({ type: 'users', mode: 'upsert', onDelete: 'nothing', nulls: 'skip' });
          return c.json(
            { ok: true, message: `${target().kind === 'emulator' ? 'the built-in emulator' : 'Knock'} accepted the key`, target: target() },
            200,
          );
        } catch (e) {
          return c.json({ ok: false, message: redact(String((e as Error).message)), target: target() }, 200);
        } finally {
          await knock.close?.();
        }
      },
    )
    .openapi(
      createRoute({
        method: 'put',
        path: '/api/destinations/knock',
        description: "Sets the Knock key (and base URL: Knock's API host or a local emulator). Kept in memory only; never returned.",
        request: { body: { content: { 'application/json': { schema: S.KeyRequest } }, required: true } },
        responses: { 200: json(S.Ok, 'the new target'), ...apiErrors },
      }),
      (c) => {
        const { apiKey, baseUrl } = c.req.valid('json');
        ctx.target.set(apiKey, baseUrl);
        return c.json({ ok: true, target: target() }, 200);
      },
    );
}
