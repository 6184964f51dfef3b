import type { Context } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import type { KnockEndpoint, KnockOperation } from '@syncline/knock-wire';
import type { Environment } from './environment.js';
import type { EmulatorState } from './emulator-state.js';

/** Hono generics of the emulator app. Bindings are absent under `app.request()`. */
export interface AppEnv {
  Bindings: Partial<HttpBindings> | undefined;
  Variables: {
    requestId: string;
    route: string;
    fault: string;
    environment: string;
    resetAfter: boolean;
    body: unknown;
  };
}

/** What a route handler gets. */
export interface RouteContext {
  c: Context<AppEnv>;
  env: Environment;
  state: EmulatorState;
  /** The route's endpoint in `@syncline/knock-wire`'s table: its body, query and response schemas. */
  endpoint: KnockEndpoint;
}

/** A route handler. */
export type RouteHandler = (ctx: RouteContext) => Response | Promise<Response>;

/**
 * Registers a Knock route by its operation in `@syncline/knock-wire`'s `KNOCK_ENDPOINTS`, the one table
 * of method, path template and rate tier.
 */
export type RegisterRoute = (operation: KnockOperation, handler: RouteHandler) => void;
