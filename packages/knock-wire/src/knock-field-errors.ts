import type { z } from 'zod';
import type { FieldError } from './knock-error.js';
import { fieldPath } from './validate-wire.js';

type KnockFieldError = z.infer<typeof FieldError>;

const article = (word: string): string => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`);

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/**
 * Turns the issues of a failed parse into the `errors[]` of a Knock 422 `invalid_params` (knock-api.md
 * §1.5): a missing, null or blank value is `{message: "can't be blank", type: "required"}` (the pairing
 * Knock's live API shows), a wrong type `must be a string`/`string`, an array over 1,000 items `should
 * have at most 1000 item(s)`/`length`; field names as Knock writes them (`users[3].id`).
 * @example knockFieldErrors(schema.safeParse(body).error!, body) // [{ field: 'users[0].id', message: "can't be blank", type: 'required' }]
 */
export function knockFieldErrors(error: z.ZodError, input: unknown): KnockFieldError[] {
  return issuesOf(error.issues, []).map((issue) => fieldError(issue, input));
}

type Issue = z.core.$ZodIssue;

/**
 * The issues to report: a value that matches none of a union's branches (a tenant id or a tenant object)
 * is reported by the branch of its own type (`tenants[0].id: can't be blank`), not as "invalid input".
 */
function issuesOf(issues: readonly Issue[], prefix: readonly PropertyKey[]): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union') {
      const typed = issue.errors.filter((branch) => !branch.some((i) => i.code === 'invalid_type' && i.path.length === 0));
      if (typed.length === 1) {
        out.push(...issuesOf(typed[0]!, path));
        continue;
      }
    }
    out.push({ ...issue, path } as Issue);
  }
  return out;
}

function fieldError(issue: Issue, input: unknown): KnockFieldError {
  const field = fieldPath(issue.path) || 'body';
  const value = valueAt(input, issue.path);
  if (issue.code === 'invalid_type' && (value === undefined || value === null))
    return { field, message: "can't be blank", type: 'required' };
  if (issue.code === 'too_small' && issue.origin === 'string' && value === '')
    return { field, message: "can't be blank", type: 'required' };
  if (issue.code === 'invalid_type') {
    const expected = issue.expected === 'record' ? 'object' : issue.expected;
    return { field, message: `must be ${article(expected)}`, type: expected };
  }
  if (issue.code === 'too_big' && issue.origin === 'array')
    return { field, message: `should have at most ${String(issue.maximum)} item(s)`, type: 'length' };
  return { field, message: issue.message, type: issue.code };
}
