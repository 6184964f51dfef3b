import { z } from 'zod';

/** One condition of a preference setting (OpenAPI `Condition`). */
export const Condition = z.object({
  variable: z.string(),
  operator: z.enum([
    'equal_to',
    'not_equal_to',
    'greater_than',
    'less_than',
    'greater_than_or_equal_to',
    'less_than_or_equal_to',
    'contains',
    'not_contains',
    'empty',
    'not_empty',
    'exists',
    'not_exists',
    'contains_all',
    'not_contains_all',
    'is_timestamp',
    'is_not_timestamp',
    'is_timestamp_on_or_after',
    'is_timestamp_before',
    'is_timestamp_on_or_after_date',
    'is_timestamp_before_date',
    'is_timestamp_between',
    'is_between',
    'is_audience_member',
    'is_not_audience_member',
  ]),
  argument: z.string().nullable(),
});

const conditions = z.object({ conditions: z.array(Condition) });
const setting = z.union([z.boolean(), conditions]);
const channelTypes = z.object({
  chat: setting.optional(),
  email: setting.optional(),
  http: setting.optional(),
  in_app_feed: setting.optional(),
  push: setting.optional(),
  sms: setting.optional(),
});
const channels = z.record(z.string(), setting);
const workflowSetting = z.union([
  z.boolean(),
  z.object({
    channel_types: channelTypes.nullable().optional(),
    channels: channels.nullable().optional(),
    conditions: z.array(Condition).nullable().optional(),
  }),
]);
const settings = {
  categories: z.record(z.string(), workflowSetting).nullable().optional(),
  workflows: z.record(z.string(), workflowSetting).nullable().optional(),
  channel_types: channelTypes.nullable().optional(),
  channels: channels.nullable().optional(),
  commercial_subscribed: z.union([z.boolean(), conditions]).nullable().optional(),
};

/** A preference set as sent (OpenAPI `PreferenceSetRequest`); inline sets merge, knock-api.md §2.9. */
export const PreferenceSetRequest = z.object({ ...settings, __persistence_strategy__: z.enum(['merge', 'replace']).optional() });

/** A preference set as Knock returns it (OpenAPI `PreferenceSet`). */
export const PreferenceSet = z.object({ id: z.string(), ...settings });

/** Inline `preferences` of a recipient: preference-set id (`default` or a tenant id) → set. */
export const InlinePreferences = z.record(z.string(), PreferenceSetRequest);
