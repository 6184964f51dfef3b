import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { relative } from 'node:path';
import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { LineCounter, parseDocument } from 'yaml';
import { updateYaml } from './update-yaml.js';
import { SyncError } from '@syncline/core';
import { configSchema, loadConfig, planDocument } from '@syncline/cli';
import { ApiError } from './api-error.js';
import * as S from './schemas.js';
import { apiErrors, json } from './route-helpers.js';
import type { ServerContext } from './server-context.js';
import { listSyncNames, listTableFiles, syncFile, writeAtomic } from './workspace.js';
import { planBody } from './plan-body.js';
import { valueChecks } from './value-checks.js';
import { testRow } from './test-row.js';
import { exampleRequests } from './example-requests.js';

/**
 * Sync configs (YAML files in `syncs/`, the same the CLI runs), plans and runs.
 * @example app.route('/', syncRoutes(ctx))
 */
export function syncRoutes(ctx: ServerContext) {
  const target = () => ctx.target.describe();
  const rel = (file: string) => relative(ctx.ws.dir, file);

  /**
   * A config from the API: the same schema as the CLI's. `source` defaults to every workspace table and
   * `destination` to Knock with the server's key; a key in the body is refused (it would land on disk).
   */
  const toConfig = (name: string, body: Record<string, unknown>): Record<string, unknown> => {
    const dest = body.destination as Record<string, unknown> | undefined;
    if (dest && ('apiKey' in dest || 'serviceToken' in dest))
      throw new ApiError(
        'invalid_request',
        'destination.apiKey: keys are not stored in the workspace; set the key with PUT /api/destinations/knock',
        400,
        {
          field: 'destination.apiKey',
        },
      );
    // A database password in the source URL would land on disk too: the URL must come from the environment.
    const src = body.source as Record<string, unknown> | undefined;
    if (src && typeof src.url === 'string' && hasPassword(src.url))
      throw new ApiError(
        'invalid_request',
        'source.url: a password is not stored in the workspace; write url: ${DATABASE_URL} (or leave it out)',
        400,
        {
          field: 'source.url',
        },
      );
    const tables = Object.fromEntries(listTableFiles(ctx.ws).map((t) => [t.name, `../${t.file}`]));
    const config = {
      name,
      ...body,
      source: body.source ?? { type: 'duckdb', tables },
      destination: body.destination ?? { type: 'knock' },
    };
    if (config.name !== name)
      throw new ApiError('invalid_request', `name: "${String(config.name)}" differs from the URL's "${name}"`, 400, { field: 'name' });
    const parsed = configSchema.safeParse(config);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = [...issue.path.map(String), ...(issue.code === 'unrecognized_keys' ? [issue.keys[0]!] : [])].join('.') || 'config';
      throw new ApiError('config_invalid', `${field}: ${issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message}`, 400, {
        field,
      });
    }
    return config;
  };

  const summary = (name: string) => {
    const file = syncFile(ctx.ws, name);
    try {
      const c = loadConfig(file, ctx.env);
      const next = c.schedule === undefined ? undefined : ctx.nextRuns().get(name);
      return {
        name,
        file: rel(file),
        type: c.spec.target.type,
        valid: true,
        ...(c.schedule === undefined ? {} : { schedule: c.schedule, nextRunAt: next ? next.toISOString() : null }),
      };
    } catch (e) {
      return { name, file: rel(file), valid: false, error: String((e as Error).message).replace(file, rel(file)) };
    }
  };

  return new OpenAPIHono()
    .openapi(
      createRoute({ method: 'get', path: '/api/syncs', responses: { 200: json(S.SyncList, 'the workspace syncs'), ...apiErrors } }),
      (c) => c.json({ syncs: listSyncNames(ctx.ws).map(summary), target: target() }, 200),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/api/syncs/{name}',
        request: { params: S.NameParam },
        responses: { 200: json(S.SyncResponse, 'one sync'), ...apiErrors },
      }),
      (c) => {
        const { name } = c.req.valid('param');
        const file = syncFile(ctx.ws, name);
        if (!existsSync(file)) throw new ApiError('not_found', `no sync named "${name}"`, 404);
        const yaml = readFileSync(file, 'utf8');
        const doc = parseDocument(yaml);
        if (doc.errors.length) throw new SyncError('config_invalid', `${rel(file)}: ${doc.errors[0]!.message.split('\n')[0]}`);
        return c.json({ name, file: rel(file), config: (doc.toJS() ?? {}) as Record<string, unknown>, yaml, target: target() }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/api/syncs/{name}/checks',
        description:
          'Each mapped field with a Knock rule (email, E.164, time zone, locale, ISO-8601, URL) checked on every row of the model in the SQL sandbox: how many values Knock would refuse, with examples. Sends nothing and holds no lock, so it runs beside a run or a plan.',
        request: { params: S.NameParam },
        responses: { 200: json(S.ValueChecks, 'the checks'), ...apiErrors },
      }),
      async (c) => {
        const { name } = c.req.valid('param');
        const file = syncFile(ctx.ws, name);
        if (!existsSync(file)) throw new ApiError('not_found', `no sync named "${name}"`, 404);
        const config = loadConfig(file, ctx.env);
        // A Postgres model runs in the database, not in the workspace's sandbox: its values are checked by the dry run.
        if (config.source.type !== 'duckdb') return c.json({ checks: [], source: config.source.type, target: target() }, 200);
        return c.json({ checks: await valueChecks(config.spec, ctx.sandbox), source: config.source.type, target: target() }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/api/syncs/{name}/test-row',
        description:
          "Test a row: the model's row with this key, mapped as a run maps it, checked by Knock's rules, and the exact call a run would make for it alone (key redacted), beside the record Knock holds for the key now. Sends nothing.",
        request: { params: S.NameParam, body: { content: { 'application/json': { schema: S.TestRowRequest } }, required: true } },
        responses: { 200: json(S.TestRowResponse, 'the row, its request and Knock now'), ...apiErrors },
      }),
      async (c) => {
        const { name } = c.req.valid('param');
        const file = syncFile(ctx.ws, name);
        if (!existsSync(file)) throw new ApiError('not_found', `no sync named "${name}"`, 404);
        const config = loadConfig(file, ctx.env);
        if (config.source.type !== 'duckdb')
          throw new ApiError('invalid_request', 'Test a row reads the model in the workspace sandbox: a DuckDB source only', 400);
        const row = await testRow(config, c.req.valid('json').key, { sandbox: ctx.sandbox, target: ctx.target });
        return c.json({ ...row, target: target() }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'put',
        path: '/api/syncs/{name}',
        description:
          'Creates or replaces syncs/<name>.yaml. The body is the config as JSON (source and destination may be left out). An existing file keeps its comments and styling where the config did not change.',
        request: { params: S.NameParam, body: { content: { 'application/json': { schema: S.SyncConfig } }, required: true } },
        responses: { 200: json(S.SyncResponse, 'the stored sync'), ...apiErrors },
      }),
      async (c) => {
        const { name } = c.req.valid('param');
        const file = syncFile(ctx.ws, name);
        const config = toConfig(name, c.req.valid('json'));
        // Written over the file as it was: comments and styling of what did not change are kept.
        const yaml = updateYaml(existsSync(file) ? readFileSync(file, 'utf8') : undefined, config);
        await writeAtomic(file, yaml);
        return c.json({ name, file: rel(file), config, yaml, target: target() }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'put',
        path: '/api/syncs/{name}/yaml',
        description:
          "Creates or replaces syncs/<name>.yaml from YAML text, kept as written: comments typed in the playground's YAML panel stay in the file. Checked like PUT /api/syncs/{name}; an error names its line and column in the text.",
        request: { params: S.NameParam, body: { content: { 'application/json': { schema: S.SyncYamlRequest } }, required: true } },
        responses: { 200: json(S.SyncResponse, 'the stored sync'), ...apiErrors },
      }),
      async (c) => {
        const { name } = c.req.valid('param');
        const file = syncFile(ctx.ws, name);
        const text = c.req.valid('json').yaml;
        const lines = new LineCounter();
        const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
        const at = (offset: number | undefined) => {
          if (offset === undefined) return '';
          const p = lines.linePos(offset);
          return `line ${p.line}, column ${p.col}: `;
        };
        const syntax = doc.errors[0];
        if (syntax) throw new ApiError('config_invalid', `${at(syntax.pos[0])}${syntax.message.split('\n')[0]}`, 400, { field: 'yaml' });
        const body = doc.toJS() as unknown;
        if (!body || typeof body !== 'object' || Array.isArray(body))
          throw new ApiError('config_invalid', 'the sync file must be a mapping (name, model, key, sync, …)', 400, { field: 'yaml' });
        let config: Record<string, unknown>;
        try {
          config = toConfig(name, body as Record<string, unknown>);
        } catch (e) {
          // The field at fault, found in the text: the same error as PUT /api/syncs/{name}, with its place.
          const field = e instanceof ApiError && typeof e.details?.field === 'string' ? e.details.field : undefined;
          if (!field || !(e instanceof ApiError)) throw e;
          const path = field.split('.');
          let node: { range?: [number, number, number] | null } | undefined;
          for (let i = path.length; !node?.range && i > 0; i--) node = doc.getIn(path.slice(0, i), true) as typeof node;
          throw new ApiError(e.code, `${at(node?.range?.[0])}${e.message}`, e.status, e.details);
        }
        // The text as written; what the server adds (name, source, destination) is merged in around its comments.
        const yaml = updateYaml(text, config);
        await writeAtomic(file, yaml);
        return c.json({ name, file: rel(file), config, yaml, target: target() }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: '/api/syncs/{name}',
        request: { params: S.NameParam },
        responses: { 200: json(S.Ok, 'deleted'), ...apiErrors },
      }),
      async (c) => {
        const { name } = c.req.valid('param');
        const file = syncFile(ctx.ws, name);
        if (!existsSync(file)) throw new ApiError('not_found', `no sync named "${name}"`, 404);
        await rm(file);
        return c.json({ ok: true, target: target() }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/api/syncs/{name}/plan',
        description:
          "The dry run: counts, sample rows field by field (before → after), invalid rows, the calls it would make and the time at Knock's rate limits. Sends nothing.",
        request: { params: S.NameParam, body: { content: { 'application/json': { schema: S.PlanRequest } }, required: false } },
        responses: {
          200: json(S.PlanResponse, 'the plan'),
          409: json(S.ErrorBody, 'a run of this sync is active'),
          422: json(S.ErrorBody, 'the plan could not be made (model, keys, guards)'),
          ...apiErrors,
        },
      }),
      async (c) => {
        const { name } = c.req.valid('param');
        const body = (c.req.header('content-type')?.includes('json') ? c.req.valid('json') : {}) ?? {};
        const { config, result, remote } = await ctx.runs.plan(name, { ...body, previewLimit: body.limit });
        if (result.error)
          throw new SyncError(
            result.error.code as never,
            result.error.message,
            result.error.details ? { details: result.error.details } : {},
          );
        const examples = await exampleRequests(config, result);
        const t = target();
        return c.json(
          {
            ...planBody(config, result, t, rel(config.file), examples),
            ...(remote ? { remote } : {}),
            // The document `syncline plan --json` prints, from the same result (the playground's Download plan.json).
            document: planDocument(config, result, { baseUrl: t.baseUrl }, remote),
          },
          200,
        );
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/api/syncs/{name}/run',
        description: 'Starts a run and returns its id at once; follow it at /api/runs/{runId}/events.',
        request: { params: S.NameParam, body: { content: { 'application/json': { schema: S.PlanRequest } }, required: false } },
        responses: { 202: json(S.RunStarted, 'started'), 409: json(S.ErrorBody, 'a run of this sync is active'), ...apiErrors },
      }),
      (c) => {
        const { name } = c.req.valid('param');
        const body = (c.req.header('content-type')?.includes('json') ? c.req.valid('json') : {}) ?? {};
        const run = ctx.runs.start(name, body);
        return c.json({ runId: run.runId, sync: run.sync, target: target() }, 202);
      },
    );
}

/** Whether a connection URL carries a password (`postgres://user:secret@host/db`). */
function hasPassword(url: string): boolean {
  try {
    return new URL(url).password !== '';
  } catch {
    return /:\/\/[^/@]*:[^/@]*@/.test(url);
  }
}
