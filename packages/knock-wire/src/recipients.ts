import { z } from 'zod';
import { InlineChannelData } from './channel-data.js';
import { InlinePreferences, PreferenceSet, PreferenceSetRequest } from './preferences.js';

/** Knock caps bulk calls and audience member calls at 1,000 items (knock-api.md §1.7). */
export const MAX_BATCH = 1000;

/** An RFC 3339 date-time with an offset (OpenAPI `format: date-time`). */
export const DateTime = z.iso.datetime({ offset: true });
/** A recipient, collection or bulk-operation id: a non-empty string ("can't be blank", knock-api.md §1.5). */
export const Id = z.string().min(1);

const optionalString = z.string().nullable().optional();

/** Fields of a user body (knock-api.md §2.1); any other key is a custom property. */
const userFields = {
  name: optionalString,
  email: optionalString,
  phone_number: optionalString,
  avatar: optionalString,
  locale: optionalString,
  timezone: optionalString,
  created_at: DateTime.nullable().optional(),
  channel_data: InlineChannelData.nullable().optional(),
  preferences: InlinePreferences.nullable().optional(),
};

/** `PUT /v1/users/{user_id}` body (OpenAPI `IdentifyUserRequest`): all optional, custom properties allowed. */
export const IdentifyUserRequest = z.looseObject(userFields);
/** A user with its id, as in bulk identify and audience members (OpenAPI `InlineIdentifyUserRequest`). */
export const InlineIdentifyUserRequest = z.looseObject({ id: Id, ...userFields });

/** `PUT /v1/objects/{collection}/{id}` body (OpenAPI `SetObjectRequest`; `channel_data`/`preferences` not nullable here). */
export const SetObjectRequest = z.looseObject({
  name: optionalString,
  locale: optionalString,
  timezone: optionalString,
  channel_data: InlineChannelData.optional(),
  preferences: InlinePreferences.optional(),
});
/** One object of a bulk set (OpenAPI `BulkSetObjectRequest`). */
export const BulkSetObjectRequest = z.looseObject({
  id: Id,
  name: optionalString,
  created_at: DateTime.nullable().optional(),
  channel_data: InlineChannelData.nullable().optional(),
  preferences: InlinePreferences.nullable().optional(),
});
/** An object passed inline, e.g. as a workflow recipient (OpenAPI `InlineIdentifyObjectRequest`). */
export const InlineIdentifyObjectRequest = BulkSetObjectRequest.extend({ collection: z.string() });

const branding = {
  icon_url: optionalString,
  logo_url: optionalString,
  primary_color: optionalString,
  primary_color_contrast: optionalString,
};
const darkBranding = {
  dark_icon_url: optionalString,
  dark_logo_url: optionalString,
  dark_primary_color: optionalString,
  dark_primary_color_contrast: optionalString,
};

/** `PUT /v1/tenants/{id}` body (OpenAPI `SetTenantRequest`). */
export const SetTenantRequest = z.looseObject({
  name: optionalString,
  channel_data: InlineChannelData.nullable().optional(),
  settings: z.object({ branding: z.object(branding).optional(), preference_set: PreferenceSetRequest.nullable().optional() }).optional(),
});
/** A tenant with its id, as in bulk set (OpenAPI `TenantRequest`). */
export const TenantRequest = z.looseObject({
  id: Id,
  name: optionalString,
  channel_data: InlineChannelData.nullable().optional(),
  preferences: InlinePreferences.nullable().optional(),
  settings: z
    .object({
      branding: z.object({ ...branding, ...darkBranding }).optional(),
      preference_set: PreferenceSetRequest.nullable().optional(),
    })
    .optional(),
});
/** A tenant by id, or with properties (OpenAPI `InlineTenantRequest`). */
export const InlineTenantRequest = z.union([z.string(), TenantRequest]);

/** A user as Knock returns it: custom properties flattened to the top level (OpenAPI `User`, knock-api.md §2.1). */
export const User = z.looseObject({
  __typename: z.literal('User'),
  id: z.string(),
  updated_at: DateTime,
  created_at: DateTime.nullable().optional(),
  name: optionalString,
  email: optionalString,
  phone_number: optionalString,
  avatar: optionalString,
  timezone: optionalString,
});

/** An object as Knock returns it: custom properties nested under `properties` (OpenAPI `Object`, §3.1). */
export const KnockObject = z.looseObject({
  __typename: z.literal('Object'),
  id: z.string(),
  collection: z.string(),
  updated_at: DateTime,
  created_at: DateTime.nullable().optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
});

const uriOrNull = z.url().nullable().optional();

/** A tenant as Knock returns it (OpenAPI `Tenant`, §7). */
export const Tenant = z.looseObject({
  __typename: z.literal('Tenant'),
  id: z.string(),
  name: optionalString,
  settings: z
    .object({
      branding: z
        .object({
          ...branding,
          ...darkBranding,
          icon_url: uriOrNull,
          logo_url: uriOrNull,
          dark_icon_url: uriOrNull,
          dark_logo_url: uriOrNull,
        })
        .nullable()
        .optional(),
      preference_set: PreferenceSet.nullable().optional(),
    })
    .nullable()
    .optional(),
});
