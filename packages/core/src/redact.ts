const SECRET = /\b(sk|pk)_(test_|live_)?[A-Za-z0-9_-]{4,}|knock_st_[A-Za-z0-9_-]+/g;

/** Replaces anything that looks like a Knock key or service token with `sk_…redacted`. */
export function redact(text: string): string {
  return text.replace(SECRET, (m) => (m.startsWith('knock_st_') ? 'knock_st_…redacted' : `${m.slice(0, 2)}_…redacted`));
}

/** Redacts secret-bearing headers (Authorization, cookies, tokens) and any key-looking value. */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    out[k] = /^(authorization|cookie|set-cookie|x-api-key|proxy-authorization)$/i.test(k)
      ? v.replace(/^(\w+)\s.*$/, '$1 …redacted')
      : redact(v);
  }
  return out;
}
