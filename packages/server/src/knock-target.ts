import { redact } from '@syncline/core';
import { ApiError } from './api-error.js';

/** Knock's API host: the only remote base URL a key is ever sent to. */
export const KNOCK_API_URL = 'https://api.knock.app';

/** The fixed, documented key of the built-in emulator (not a secret). */
export const EMULATOR_KEY = 'sk_test_local';

/** Which Knock the server's syncs go to. The key is held here, in memory only, and never returned. */
export interface KnockTarget {
  /** What every response says: `{ kind, baseUrl }`. */
  describe(): { kind: 'emulator' | 'knock'; baseUrl: string; key: string };
  /** Key and base URL for the destination (server-internal; never put in a response). */
  credentials(): { apiKey: string; baseUrl: string };
  /** Sets the key (and base URL) given once by the user. */
  set(apiKey: string, baseUrl?: string): void;
}

/**
 * A base URL a key may be sent to: Knock's API host over https, or the local emulator on loopback.
 * Anything else would hand the key to whoever runs that host.
 */
export function checkBaseUrl(raw: string, emulatorUrl: string | undefined): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ApiError('target_refused', `base URL "${redact(raw)}" is not a URL`, 400);
  }
  if (url.username || url.password) throw new ApiError('target_refused', 'the base URL must not carry credentials', 400);
  const origin = url.origin;
  const loopback = url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (origin === KNOCK_API_URL || (emulatorUrl && origin === new URL(emulatorUrl).origin) || loopback) return origin;
  throw new ApiError(
    'target_refused',
    `base URL ${origin} refused: only ${KNOCK_API_URL} or a local emulator (http://127.0.0.1:PORT)`,
    400,
  );
}

/**
 * The active target: the built-in emulator (key `sk_test_local`) or Knock with the user's key.
 * @example const target = knockTarget({ apiKey: process.env.KNOCK_API_KEY, emulatorUrl })
 */
export function knockTarget(init: {
  apiKey?: string | undefined;
  baseUrl?: string | undefined;
  emulatorUrl?: string | undefined;
}): KnockTarget {
  let apiKey = init.apiKey ?? EMULATOR_KEY;
  let baseUrl = checkBaseUrl(init.baseUrl ?? (init.apiKey ? KNOCK_API_URL : (init.emulatorUrl ?? KNOCK_API_URL)), init.emulatorUrl);
  const kind = (): 'emulator' | 'knock' => (init.emulatorUrl && baseUrl === new URL(init.emulatorUrl).origin ? 'emulator' : 'knock');
  return {
    describe: () => ({
      kind: kind(),
      baseUrl,
      key: apiKey === EMULATOR_KEY ? EMULATOR_KEY : redact(apiKey).replace(/^(\w\w)_.*$/, '$1_…redacted'),
    }),
    credentials: () => ({ apiKey, baseUrl }),
    set(key, url) {
      if (!/^sk_/.test(key)) throw new ApiError('invalid_request', 'apiKey: a Knock secret key starts with sk_', 400);
      baseUrl = checkBaseUrl(url ?? KNOCK_API_URL, init.emulatorUrl);
      apiKey = key;
    },
  };
}
