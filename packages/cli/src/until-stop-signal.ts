/**
 * Resolves at the first SIGINT or SIGTERM, for commands that serve until stopped (`serve`, `emulator`).
 * @example await untilStopSignal(); await server.close();
 */
export function untilStopSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
