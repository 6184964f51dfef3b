export interface FieldDiff {
  field: string;
  before: unknown;
  after: unknown;
}

/** Field-level before → after of two payloads (top-level fields; `null` before means a new record). */
export function diffFields(
  before: Record<string, unknown> | null,
  after: Record<string, unknown> | null,
): { fields: FieldDiff[]; unchanged: number } {
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  const fields: FieldDiff[] = [];
  let unchanged = 0;
  for (const k of [...keys].sort()) {
    const b = before?.[k] ?? null;
    const a = after?.[k] ?? null;
    if (JSON.stringify(a) === JSON.stringify(b) && before !== null) unchanged += 1;
    else fields.push({ field: k, before: before === null ? null : b, after: a });
  }
  return { fields, unchanged };
}
