import { Cron } from 'croner';
import { z } from 'zod';

const UNITS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * `schedule:` of a sync: a cron expression (5 fields, or 6 with seconds; parsed by croner, in the machine's
 * time zone unless `timezone` is given) or `{ every: 15m }` (`s`, `m`, `h`, `d`; at least 1 s).
 * @example scheduleSchema.parse('*\/15 * * * *'); scheduleSchema.parse({ every: '15m' })
 */
export const scheduleSchema = z.union(
  [
    z
      .string()
      .min(1)
      .superRefine((expr, ctx) => {
        const problem = cronProblem(expr);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    z.strictObject({
      every: z
        .string()
        .regex(/^\d+(\.\d+)?\s*[smhd]$/, 'a duration such as 30s, 15m, 2h or 1d')
        .refine((s) => everyMs(s) >= 1_000, 'at least 1s'),
    }),
    z.strictObject({
      cron: z
        .string()
        .min(1)
        .superRefine((expr, ctx) => {
          const problem = cronProblem(expr);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
      timezone: z.string().min(1).optional(),
    }),
  ],
  {
    // When no form fits, say which forms there are rather than zod's "Invalid input".
    error: (issue) =>
      issue.code === 'invalid_union'
        ? 'a cron expression such as "*/15 * * * *", { every: 15m } or { cron: "0 9 * * *", timezone: Europe/Paris }'
        : undefined,
  },
);

export type Schedule = z.infer<typeof scheduleSchema>;

/** Milliseconds of an `every:` duration such as `15m`. */
export function everyMs(every: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhd])$/.exec(every.trim());
  return m ? Math.round(Number(m[1]) * UNITS[m[2] as keyof typeof UNITS]) : Number.NaN;
}

function cronProblem(expr: string): string | undefined {
  try {
    new Cron(expr, { paused: true });
    return undefined;
  } catch (e) {
    return `not a cron expression: ${(e as Error).message.replace(/^CronPattern: /, '')}`;
  }
}

/**
 * The first time strictly after `after` that the schedule fires. `every:` counts from `after`.
 * @example nextTime({ every: '15m' }, new Date('2026-01-01T00:00:00Z')) // 2026-01-01T00:15:00Z
 */
export function nextTime(schedule: Schedule, after: Date): Date | undefined {
  if (typeof schedule === 'object' && 'every' in schedule) return new Date(after.getTime() + everyMs(schedule.every));
  const [expr, timezone] = typeof schedule === 'string' ? [schedule, undefined] : [schedule.cron, schedule.timezone];
  return new Cron(expr, { paused: true, ...(timezone ? { timezone } : {}) }).nextRun(after) ?? undefined;
}

/** The schedule as the logs show it: `every 15m` or the cron expression. */
export function describeSchedule(schedule: Schedule): string {
  if (typeof schedule === 'string') return `cron ${schedule}`;
  return 'every' in schedule ? `every ${schedule.every}` : `cron ${schedule.cron}${schedule.timezone ? ` (${schedule.timezone})` : ''}`;
}
