import { KNOCK_ENDPOINTS, type KnockEndpoint, type KnockOperation } from './endpoints.js';

/** The endpoint a method and path resolve to, with the decoded path parameters. */
export interface EndpointMatch {
  operation: KnockOperation;
  endpoint: KnockEndpoint;
  params: Record<string, string>;
}

interface Template {
  operation: KnockOperation;
  endpoint: KnockEndpoint;
  segments: string[];
  /** Literal segments: `/v1/users/bulk/delete` wins over a template with a parameter there. */
  literal: number;
}

const templates: Template[] = Object.entries(KNOCK_ENDPOINTS).map(([operation, endpoint]) => {
  const segments = endpoint.path.split('/').slice(1);
  return { operation: operation as KnockOperation, endpoint, segments, literal: segments.filter((s) => !s.startsWith('{')).length };
});

/**
 * Finds the endpoint of {@link KNOCK_ENDPOINTS} for a method and a path (a query string is ignored).
 * @example matchEndpoint('PUT', '/v1/objects/projects/p1') // { operation: 'setObject', params: { collection: 'projects', id: 'p1' }, … }
 */
export function matchEndpoint(method: string, rawPath: string): EndpointMatch | undefined {
  const path = rawPath.split('?')[0] ?? '';
  const parts = path.split('/').slice(1);
  const m = method.toUpperCase();
  let best: EndpointMatch | undefined;
  let bestLiteral = -1;
  for (const t of templates) {
    if (t.endpoint.method !== m || t.segments.length !== parts.length || t.literal <= bestLiteral) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < parts.length && ok; i++) {
      const seg = t.segments[i]!;
      const part = parts[i]!;
      if (!seg.startsWith('{')) ok = seg === part;
      else if (part === '') ok = false;
      else params[seg.slice(1, -1)] = decode(part);
    }
    if (!ok) continue;
    bestLiteral = t.literal;
    best = { operation: t.operation, endpoint: t.endpoint, params };
  }
  return best;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
