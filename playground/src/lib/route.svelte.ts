/** The screens, in the order of the flow; each is a path, so a reload or a shared link lands on it. */
export const SCREENS = [
  { path: '/data', label: 'Data' },
  { path: '/model', label: 'Model' },
  { path: '/sync', label: 'Sync' },
  { path: '/dry-run', label: 'Dry run' },
  { path: '/runs', label: 'Runs' },
] as const;

export type ScreenPath = (typeof SCREENS)[number]['path'];

const screenOf = (pathname: string): ScreenPath => SCREENS.find((s) => s.path === pathname)?.path ?? '/data';

/**
 * The app's state that lives in the URL: the screen (path), the sync being edited (`?sync=`) and the run
 * shown in the debugger (`?run=`). Everything else lives in the workspace's sync file on the server.
 */
class Route {
  screen = $state<ScreenPath>(screenOf(location.pathname));
  sync = $state(new URLSearchParams(location.search).get('sync') ?? '');
  run = $state(new URLSearchParams(location.search).get('run') ?? '');

  constructor() {
    addEventListener('popstate', () => this.read());
  }

  private read(): void {
    const q = new URLSearchParams(location.search);
    this.screen = screenOf(location.pathname);
    this.sync = q.get('sync') ?? '';
    this.run = q.get('run') ?? '';
  }

  /** The URL of a screen with the current sync (and run) kept. */
  href(screen: ScreenPath, extra: { run?: string } = {}): string {
    const q = new URLSearchParams();
    if (this.sync) q.set('sync', this.sync);
    const run = extra.run ?? (screen === '/runs' ? this.run : '');
    if (run) q.set('run', run);
    const s = q.toString();
    return screen + (s ? `?${s}` : '');
  }

  /** Goes to a screen (a history entry, so Back works). */
  go(screen: ScreenPath, extra: { run?: string } = {}): void {
    history.pushState(null, '', this.href(screen, extra));
    this.read();
  }

  /** Changes the sync (or run) in the URL without a new history entry. */
  set(values: { sync?: string; run?: string }): void {
    if (values.sync !== undefined) this.sync = values.sync;
    if (values.run !== undefined) this.run = values.run;
    history.replaceState(null, '', this.href(this.screen));
  }
}

/** The one route of the page. */
export const route = new Route();
