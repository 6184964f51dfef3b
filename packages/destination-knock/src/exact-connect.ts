import type { Socket } from 'node:net';
import { buildConnector, errors } from 'undici';

/**
 * An undici connector whose connect timeout fires on time. undici's own runs on its coarse timer wheel
 * (`setFastTimeout`, ~0.5 s steps: undici `lib/core/util.js` `setupConnectTimeout`), so it can fire up to
 * half a second late; this one uses a plain timer. A connect that has not completed after `timeoutMs` has
 * its socket destroyed with undici's `ConnectTimeoutError` (`UND_ERR_CONNECT_TIMEOUT`), which the pool
 * reports as a failed request: no socket or timer is left behind.
 * @example new Pool(origin, { connect: exactConnector(5_000) })
 */
export function exactConnector(timeoutMs: number, options: buildConnector.BuildOptions = {}): buildConnector.connector {
  // `timeout: 0` turns undici's own connect timer off.
  const connect = buildConnector({ ...options, timeout: 0 }) as (
    opts: buildConnector.Options,
    callback: buildConnector.Callback,
  ) => Socket | undefined;
  return (opts, callback) => {
    const connecting: { socket?: Socket | undefined } = {};
    const timer = setTimeout(() => {
      connecting.socket?.destroy(
        new errors.ConnectTimeoutError(`Connect Timeout Error (attempted address: ${opts.hostname}:${opts.port}, timeout: ${timeoutMs}ms)`),
      );
    }, timeoutMs);
    connecting.socket = connect(opts, (...args) => {
      clearTimeout(timer);
      callback(...args);
    });
  };
}
