export { main, createProgram, EXIT, type Io } from './program.js';
export { loadConfig, configSchema, type LoadedConfig } from './load-config.js';
export { openSource, openLedger } from './open-sync.js';
export { runAlerts } from './alert-hook.js';
export { sendEta, type DiffCounts } from './send-eta.js';
export { scheduledConfigs, workspaceJobs, runSchedule } from './run-schedule.js';
export { planDocument } from './print-plan.js';
