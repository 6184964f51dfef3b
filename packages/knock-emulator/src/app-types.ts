import type { Context } from 'hono';
import type { HttpBindings } from '@hono/node-server';
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
}

/** A route handler. */
export type RouteHandler = (ctx: RouteContext) => Response | Promise<Response>;

/** Registers a Knock route: method, Knock path template (`/v1/users/{user_id}`), rate tier, handler. */
export type RegisterRoute = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', template: string, tier: number, handler: RouteHandler) => void;
