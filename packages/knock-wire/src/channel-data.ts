import { z } from 'zod';

const url = z.object({ url: z.string() });
const nullableString = z.string().nullable().optional();

/** Push channel data: device tokens (Knock OpenAPI `PushChannelDataTokensOnly`). */
export const PushTokensChannelData = z.object({ tokens: z.array(z.string()) });
/** Push channel data: devices (`PushChannelDataDevicesOnly`). */
export const PushDevicesChannelData = z.object({
  devices: z.array(z.object({ token: z.string(), locale: nullableString, timezone: nullableString })),
});
/** AWS SNS channel data: target ARNs (`AWSSNSPushChannelDataTargetARNsOnly`). */
export const SnsTargetArnsChannelData = z.object({ target_arns: z.array(z.string()) });
/** AWS SNS channel data: devices (`AWSSNSPushChannelDataDevicesOnly`). */
export const SnsDevicesChannelData = z.object({
  devices: z.array(z.object({ target_arn: z.string(), locale: nullableString, timezone: nullableString })),
});
/** OneSignal channel data (`OneSignalChannelDataPlayerIdsOnly`). */
export const OneSignalChannelData = z.object({ player_ids: z.array(z.uuid()) });
/** Slack channel data (`SlackChannelData`): token connections or incoming webhooks. */
export const SlackChannelData = z.object({
  connections: z.array(
    z.union([
      z.object({ incoming_webhook: url }),
      z.object({ access_token: nullableString, channel_id: nullableString, user_id: nullableString, channel_name: nullableString }),
    ]),
  ),
  token: z.object({ access_token: z.string().nullable() }).nullable().optional(),
});
/** Microsoft Teams channel data (`MsTeamsChannelData`). */
export const MsTeamsChannelData = z.object({
  connections: z.array(
    z.union([
      z.object({ incoming_webhook: url }),
      z.object({
        ms_teams_tenant_id: z.uuid().nullable().optional(),
        ms_teams_team_id: z.uuid().nullable().optional(),
        ms_teams_channel_id: z.uuid().nullable().optional(),
        ms_teams_user_id: z.uuid().nullable().optional(),
      }),
    ]),
  ),
  ms_teams_tenant_id: z.uuid().nullable().optional(),
});
/** Discord channel data (`DiscordChannelData`). */
export const DiscordChannelData = z.object({
  connections: z.array(z.union([z.object({ channel_id: z.string() }), z.object({ incoming_webhook: url })])),
});

/**
 * Inline `channel_data` of a recipient: channel id (a UUID configured in Knock) → that channel's data
 * (knock-api.md §2.9; OpenAPI `InlineChannelDataRequest`).
 */
export const InlineChannelData = z.record(
  z.string(),
  z.union([
    PushTokensChannelData,
    PushDevicesChannelData,
    SnsTargetArnsChannelData,
    SnsDevicesChannelData,
    OneSignalChannelData,
    SlackChannelData,
    MsTeamsChannelData,
    DiscordChannelData,
  ]),
);
