/**
 * Preloaded (`--import`) into the processes `bench/run.ts` measures: at exit, writes the process's own
 * peak RSS and CPU time (all threads, DuckDB's included) to `$BENCH_USAGE_FILE`. `process.resourceUsage`
 * is read by the process itself, so nothing is lost between a last /proc sample and the exit. Plain
 * JavaScript, so the built CLI is measured without a TypeScript loader in the process.
 */
import { writeFileSync } from 'node:fs';

const file = process.env['BENCH_USAGE_FILE'];
if (file) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    // maxRSS is in kilobytes (getrusage ru_maxrss, = VmHWM on Linux); CPU times in microseconds.
    writeFileSync(file, JSON.stringify({ maxRssKb: u.maxRSS, userUs: u.userCPUTime, systemUs: u.systemCPUTime }));
  });
}
