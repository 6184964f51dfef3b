/**
 * Request and response bodies of the API as zod schemas: routes validate with them, `GET /api/openapi.json`
 * is generated from them, and the playground's typed client (`hc`) infers its types from them.
 */
import { z } from '@hono/zod-openapi';

export const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }).catchall(z.unknown()) }).openapi('Error');

export const Target = z
  .object({
    kind: z.enum(['emulator', 'knock']),
    baseUrl: z.string(),
    /** `sk_test_local` for the emulator, `sk_…redacted` otherwise: never the key. */
    key: z.string(),
  })
  .openapi('Target');

export const Health = z.object({ ok: z.boolean(), version: z.string(), target: Target }).openapi('Health');

export const Column = z.object({ name: z.string(), type: z.string() }).openapi('Column');

export const Table = z
  .object({
    name: z.string(),
    file: z.string(),
    format: z.enum(['csv', 'parquet', 'json']),
    bytes: z.number(),
    columns: z.array(Column),
    rowCount: z.number(),
    error: z.string().optional(),
    /** A CSV file's dialect as detected (or as re-imported); `unsure`: the playground shows the CSV options. */
    csv: z.object({ delimiter: z.string(), quote: z.string(), header: z.boolean(), unsure: z.boolean() }).optional(),
  })
  .openapi('Table');

export const ReimportRequest = z
  .object({
    /** One character; `\\t` (typed as backslash-t) is a tab. */
    delimiter: z.string().min(1).max(2),
    /** One character, or empty for none. */
    quote: z.string().max(1),
    header: z.boolean(),
  })
  .openapi('ReimportRequest');

export const Tables = z.object({ tables: z.array(Table), target: Target }).openapi('Tables');

export const UploadQuery = z.object({
  name: z.string().min(1).optional().openapi({
    description: 'table name (sanitised to letters, digits and "_"); required with a raw body, optional with a multipart form',
    example: 'users',
  }),
  replace: z.enum(['true', 'false']).optional(),
});

export const QueryRequest = z
  .object({
    sql: z.string().min(1).max(1_000_000),
    limit: z.number().int().min(0).max(100_000).default(1_000),
    /** Keep the statement in the workspace's query history (the playground's Run model); helper queries leave it out. */
    history: z.boolean().optional(),
  })
  .openapi('QueryRequest');

export const ProfileRequest = z.object({ sql: z.string().min(1).max(1_000_000) }).openapi('ProfileRequest');

export const ProfileResponse = z
  .object({
    rows: z.number(),
    columns: z.array(
      z.object({
        name: z.string(),
        type: z.string(),
        nulls: z.number(),
        distinct: z.number(),
        min: z.string().nullable(),
        max: z.string().nullable(),
        top: z.array(z.object({ value: z.string(), count: z.number() })),
      }),
    ),
    elapsedMs: z.number(),
    target: Target,
  })
  .openapi('ColumnProfile');

export const HistoryResponse = z
  .object({
    entries: z.array(z.object({ sql: z.string(), at: z.string(), rows: z.number(), elapsedMs: z.number() })),
    target: Target,
  })
  .openapi('QueryHistory');

export const QueryResponse = z
  .object({
    columns: z.array(Column),
    rows: z.array(z.record(z.string(), z.unknown())),
    total: z.number(),
    elapsedMs: z.number(),
    target: Target,
  })
  .openapi('QueryResponse');

export const CompletionsResponse = z
  .object({
    tables: z.array(z.object({ name: z.string(), columns: z.array(Column) })),
    functions: z.array(z.object({ name: z.string(), type: z.string() })),
    keywords: z.array(z.string()),
    target: Target,
  })
  .openapi('Completions');

export const FieldsQuery = z.object({ type: z.enum(['users', 'objects', 'audiences']) });

export const FieldsResponse = z
  .object({
    type: z.enum(['users', 'objects', 'audiences']),
    fields: z.array(
      z.object({
        name: z.string(),
        type: z.string(),
        rule: z.string().optional(),
        description: z.string(),
        required: z.boolean().optional(),
      }),
    ),
    target: Target,
  })
  .openapi('KnockFields');

export const CheckResponse = z.object({ ok: z.boolean(), message: z.string(), target: Target }).openapi('KnockCheck');

export const KeyRequest = z
  .object({ apiKey: z.string().min(1), baseUrl: z.string().optional() })
  .openapi('KnockKey', { description: 'Given once; held in the server memory only, never returned.' });

export const SyncSummary = z
  .object({
    name: z.string(),
    file: z.string(),
    type: z.string().optional(),
    valid: z.boolean(),
    error: z.string().optional(),
    /** The sync's `schedule:` (cron text or `{ every }`), when it has one. */
    schedule: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
    /** When `syncline serve` runs it next (null: not scheduled by this server). */
    nextRunAt: z.string().nullable().optional(),
  })
  .openapi('SyncSummary');

export const SyncList = z.object({ syncs: z.array(SyncSummary), target: Target }).openapi('SyncList');

/** A sync config as JSON: the same keys as the YAML file the CLI runs. */
export const SyncConfig = z.record(z.string(), z.unknown()).openapi('SyncConfig', {
  description: 'The sync config (name, model, key, sync, source, destination) as in syncs/<name>.yaml',
});

/** A sync file as YAML text, saved as written (its comments included). */
export const SyncYamlRequest = z
  .object({ yaml: z.string().max(1_000_000).openapi({ description: 'the whole syncs/<name>.yaml, comments included' }) })
  .openapi('SyncYamlRequest');

export const SyncResponse = z
  .object({ name: z.string(), file: z.string(), config: SyncConfig, yaml: z.string(), target: Target })
  .openapi('Sync');

export const ValueChecks = z
  .object({
    checks: z.array(
      z.object({
        field: z.string(),
        column: z.string(),
        rule: z.string(),
        values: z.number(),
        invalid: z.number(),
        estimated: z.boolean(),
        examples: z.array(z.string()),
        message: z.string(),
      }),
    ),
    /** The sync's source type: only a DuckDB model is checked here (a Postgres model runs in the database). */
    source: z.string(),
    target: Target,
  })
  .openapi('ValueChecks');

export const TestRowRequest = z.object({ key: z.string().min(1) }).openapi('TestRowRequest');

export const TestRowResponse = z
  .object({
    key: z.string(),
    payload: z.record(z.string(), z.unknown()),
    issues: z.array(z.object({ field: z.string(), rule: z.string(), message: z.string() })),
    request: z.object({ method: z.string(), path: z.string(), headers: z.record(z.string(), z.string()), body: z.unknown() }),
    /** Knock's record of the key now (null: not in Knock). */
    current: z.record(z.string(), z.unknown()).nullable().optional(),
    target: Target,
  })
  .openapi('TestRow');

export const NameParam = z.object({ name: z.string().openapi({ param: { name: 'name', in: 'path' } }) });
export const RunIdParam = z.object({ runId: z.string().openapi({ param: { name: 'runId', in: 'path' } }) });

export const PlanRequest = z
  .object({
    fullResync: z.boolean().optional(),
    allowMassDelete: z.boolean().optional(),
    limit: z.number().int().min(0).max(1000).optional(),
    /** Plan only: read the sample rows from Knock (or the emulator) and mark drift. */
    remote: z.boolean().optional(),
  })
  .openapi('PlanRequest');

const FieldChange = z.object({ field: z.string(), before: z.unknown(), after: z.unknown() });

export const PlanResponse = z
  .object({
    sync: z.object({ name: z.string(), file: z.string(), type: z.string(), mode: z.string(), onDelete: z.string(), key: z.string() }),
    target: Target,
    summary: z.record(z.string(), z.number()),
    changes: z.array(z.object({ action: z.string(), key: z.string(), fields: z.array(FieldChange), unchangedFields: z.number() })),
    invalid: z.array(
      z.object({
        key: z.string(),
        field: z.string(),
        rule: z.string(),
        message: z.string(),
        row: z.number().optional(),
        value: z.string().optional(),
      }),
    ),
    guards: z.array(z.object({ code: z.string(), message: z.string() })),
    requests: z.array(
      z.object({
        method: z.string(),
        path: z.string(),
        headers: z.record(z.string(), z.string()),
        calls: z.number(),
        rows: z.number(),
        tier: z.number().nullable(),
        perSecond: z.number().nullable(),
        seconds: z.number(),
        /** The endpoint's first call built from the sample rows (key redacted); absent when the sample has none. */
        example: z
          .object({ method: z.string(), path: z.string(), headers: z.record(z.string(), z.string()), body: z.unknown(), rows: z.number() })
          .optional(),
      }),
    ),
    estimate: z.object({ seconds: z.number(), excludes: z.array(z.string()) }),
    /** With `remote: true`: per sample row and field, Knock now → Syncline last sent → will send; drift marked. */
    remote: z
      .array(
        z.object({
          key: z.string(),
          found: z.boolean(),
          fields: z.array(
            z.object({ field: z.string(), now: z.unknown(), lastSent: z.unknown(), willSend: z.unknown(), drift: z.boolean() }),
          ),
        }),
      )
      .optional(),
    /** The same document `syncline plan --json` prints for this plan (`kind: syncline.plan`), for *Download plan.json*. */
    document: z.record(z.string(), z.unknown()).openapi({ description: 'the plan as `syncline plan --json` prints it' }),
  })
  .openapi('Plan');

export const RunStarted = z.object({ runId: z.string(), sync: z.string(), target: Target }).openapi('RunStarted');

export const RunRecord = z
  .object({
    runId: z.string(),
    sync: z.string(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    status: z.string(),
    counts: z.record(z.string(), z.number()),
    phases: z.array(z.object({ name: z.string(), ms: z.number() })),
    requests: z.number(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
  })
  .openapi('RunRecord');

export const RunList = z.object({ runs: z.array(RunRecord), target: Target }).openapi('RunList');

export const RunResponse = z
  .object({
    run: RunRecord,
    failedRows: z.array(z.object({ key: z.string(), code: z.string().optional(), message: z.string().optional() })),
    /** Alerts sent after the run: one per channel that fired, with whether it arrived. */
    alerts: z.array(
      z.object({
        alert: z.string(),
        channel: z.string(),
        event: z.string(),
        ok: z.boolean(),
        attempts: z.number(),
        status: z.number().optional(),
        error: z.string().optional(),
        at: z.string(),
      }),
    ),
    target: Target,
  })
  .openapi('Run');

export const ExchangesQuery = z.object({
  status: z.enum(['2xx', '3xx', '4xx', '5xx', 'error']).optional(),
  key: z.string().optional(),
  /** Every attempt of one request: the `idempotency-key` its attempts share (the debugger's retry chain). */
  request: z.string().min(1).optional(),
  cursor: z.string().optional(),
  /** Start at this position of the filtered list instead of a cursor: a virtual list jumps to any row. */
  offset: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const Exchange = z
  .object({
    seq: z.number(),
    method: z.string(),
    path: z.string(),
    status: z.number().nullable(),
    attempt: z.number(),
    startedAt: z.string(),
    durationMs: z.number(),
    requestHeaders: z.record(z.string(), z.string()),
    requestBody: z.string().optional(),
    responseHeaders: z.record(z.string(), z.string()).optional(),
    responseBody: z.string().optional(),
    error: z.string().optional(),
    keys: z.array(z.string()).optional(),
  })
  .openapi('Exchange');

export const ExchangePage = z
  .object({
    exchanges: z.array(Exchange),
    nextCursor: z.string().nullable(),
    total: z.number(),
    /** The exchanges of the run this answer looked at (the highest `seq`): a live tail counts only those after it. */
    through: z.number(),
    target: Target,
  })
  .openapi('ExchangePage');

export const Ok = z.object({ ok: z.boolean(), target: Target }).openapi('Ok');
