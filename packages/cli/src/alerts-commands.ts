import type { Command } from 'commander';
import { withConfig, EXIT, type Io } from './program.js';

/**
 * `syncline alerts test <config>`: sends a test alert to every channel of a sync (its own `alerts:` or its
 * folder's `syncline.yaml`) and says which arrived. Exit 0 when all did, 3 when one did not, 2 without alerts.
 */
export function registerAlertsCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  const alerts = program.command('alerts').description('sync alerts (Slack, PagerDuty, email, SMS, webhook, Knock)');
  alerts
    .command('test <config>')
    .description('send a test alert to every channel of the sync')
    .action(async (file: string) =>
      setExit(
        await withConfig(file, io, async (config, env) => {
          // Loaded here, not at startup: the CLI's first line must not wait for zod, croner and the channels.
          const [{ SyncError }, { syncAlerts, WORKSPACE_FILE }, { sendTestAlerts }] = await Promise.all([
            import('@syncline/core'),
            import('./load-workspace.js'),
            import('@syncline/alerts'),
          ]);
          const channels = syncAlerts(config, env);
          if (channels.length === 0)
            throw new SyncError('config_invalid', `${file}: no alerts: configured (in the config or in ${WORKSPACE_FILE} beside it)`);
          const deliveries = await sendTestAlerts({ alerts: channels, sync: config.spec.name, configFile: file });
          for (const d of deliveries)
            io.stdout.write(
              d.ok
                ? `  ✓ ${d.alert} (${d.channel}) delivered${d.attempts > 1 ? ` after ${d.attempts} attempts` : ''}\n`
                : `  ✗ ${d.alert} (${d.channel}) not delivered after ${d.attempts} attempt${d.attempts > 1 ? 's' : ''}: ${d.error}\n`,
            );
          const failed = deliveries.filter((d) => !d.ok).length;
          io.stdout.write(
            failed === 0
              ? `Test alert delivered to ${deliveries.length} channel${deliveries.length > 1 ? 's' : ''}.\n`
              : `${failed} of ${deliveries.length} channels did not take the test alert.\n`,
          );
          return failed === 0 ? EXIT.ok : EXIT.failed;
        }),
      ),
    );
}
