import type { FieldSpec } from '@syncline/core';
import { type KnockTarget } from './knock-target.js';

/**
 * Knock's reserved recipient properties (https://docs.knock.app/managing-recipients/identifying-recipients,
 * "Reserved properties"); everything else in a payload is a custom property.
 */
const USER_FIELDS: FieldSpec[] = [
  { name: 'name', type: 'string', description: 'Display name.' },
  { name: 'email', type: 'string', rule: 'email', description: 'Email address, used by email channels.' },
  { name: 'phone_number', type: 'string', rule: 'e164', description: 'E.164 phone number, used by SMS channels.' },
  { name: 'avatar', type: 'string', rule: 'url', description: 'Avatar image URL.' },
  { name: 'locale', type: 'string', rule: 'locale', description: 'BCP-47 locale, used for translations.' },
  { name: 'timezone', type: 'string', rule: 'timezone', description: 'IANA time zone, used by schedules and send windows.' },
  { name: 'created_at', type: 'datetime', rule: 'iso8601', description: 'When the user was created in your system (ISO-8601).' },
];

/** Objects name only these reserved fields (Knock OpenAPI `SetObjectRequest`); `phone_number` is a recipient field. */
const OBJECT_FIELDS: FieldSpec[] = [
  { name: 'name', type: 'string', description: 'Display name.' },
  { name: 'locale', type: 'string', rule: 'locale', description: 'BCP-47 locale.' },
  { name: 'timezone', type: 'string', rule: 'timezone', description: 'IANA time zone.' },
  { name: 'phone_number', type: 'string', rule: 'e164', description: 'E.164 phone number.' },
];

/** Audience members carry a user (upserted) and an optional tenant (Knock OpenAPI `AudienceMemberRequest`). */
const TENANT_FIELD: FieldSpec = {
  name: 'tenant',
  type: 'string',
  rule: 'id',
  description: 'Tenant id of the membership (not a user property); one membership per user and tenant.',
};

const CUSTOM: FieldSpec = {
  name: '*',
  type: 'any',
  description: 'Any other field is a custom property (JSON; ≤ 256 kB in total per recipient).',
};

/** Fields Knock owns; a payload must not set them. */
export const SERVER_OWNED_FIELDS = new Set(['id', '__typename', 'updated_at']);

/**
 * The field catalog of a sync target: the reserved Knock fields with their rules, then `*` for custom
 * properties. The record key always becomes the recipient `id` and is not a field.
 * @example fieldCatalog({ type: 'users', mode: 'upsert', onDelete: 'nothing', nulls: 'skip' }).map((f) => f.name)
 */
export function fieldCatalog(target: Pick<KnockTarget, 'type'>): FieldSpec[] {
  switch (target.type) {
    case 'users':
      return [...USER_FIELDS, CUSTOM];
    case 'objects':
      return [...OBJECT_FIELDS, CUSTOM];
    case 'audiences':
      return [...USER_FIELDS, TENANT_FIELD, CUSTOM];
  }
}
