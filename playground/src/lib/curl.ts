/** A shell word in single quotes (a `'` inside becomes `'\''`): nothing in it expands. */
const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/** Headers a copied command leaves out: the key (replaced by `$KNOCK_API_KEY`) and what curl sets itself. */
const LEFT_OUT = new Set(['authorization', 'content-length', 'host', 'connection', 'accept-encoding', 'user-agent']);

/**
 * A request as a `curl` command to paste in a shell: the key is never in it, only `$KNOCK_API_KEY`, which the
 * shell expands from the user's own environment (the header is in double quotes for that; everything else is
 * single-quoted, so a body or a path cannot run anything).
 * @example curlOf({ method: 'PUT', url: 'https://api.knock.app/v1/users/u1', headers: {}, body: '{"name":"Ann"}' })
 */
export function curlOf(request: { method: string; url: string; headers: Record<string, string>; body?: string | undefined }): string {
  const lines = [`curl -X ${request.method} ${quote(request.url)}`, `-H "Authorization: Bearer $KNOCK_API_KEY"`];
  for (const [name, value] of Object.entries(request.headers))
    if (!LEFT_OUT.has(name.toLowerCase())) lines.push(`-H ${quote(`${name}: ${value}`)}`);
  if (request.body) lines.push(`--data ${quote(request.body)}`);
  return lines.join(' \\\n  ');
}
