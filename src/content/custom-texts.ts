/**
 * Custom message texts, read from ZITADEL's events (zitadel-config-events.md §3) instead of
 * its projection tables, so herald needs nothing ZITADEL does not already write:
 * `instance.customtext.set/removed/template.removed` on the instance,
 * `org.customtext.set/removed/template.removed` on the user's organisation, `org.removed` and
 * `instance.removed` clearing them, and `instance.default.language.set` for the fallback
 * language. Per (template, language, key): organisation over instance (over herald's texts,
 * see language.ts).
 *
 * Caching: one entry per (instance, organisation), reused while a version stamp of those
 * events is unchanged. The stamp is `count(*)` and `max(position)` of the event types above
 * for that instance and organisation — one small indexed aggregate per job (es_projection
 * covers the instance branch). The count matters: events are never deleted, so a late commit
 * whose position is below the max still changes the stamp. A TTL was the other option; it
 * would either show a changed text late or reload as often as this query runs, and it could
 * not tell "nothing changed" from "changed" at all.
 */
import { makeRecent } from '../eventstore/recent.js';
import type { Queryable } from '../eventstore/types.js';
import type { CustomTexts, MessageTexts, TextKey, TextSettings } from './types.js';
import { MessageTypes, TextKeys } from './types.js';

export const CUSTOM_TEXT_EVENTS = {
  instance: [
    'instance.customtext.set',
    'instance.customtext.removed',
    'instance.customtext.template.removed',
    'instance.removed',
    'instance.default.language.set',
  ],
  org: ['org.customtext.set', 'org.customtext.removed', 'org.customtext.template.removed', 'org.removed'],
} as const;

const WHERE = `instance_id = $1
   AND ((aggregate_type = 'instance' AND event_type = ANY($2::TEXT[]))
     OR (aggregate_type = 'org' AND aggregate_id = $3 AND event_type = ANY($4::TEXT[])))`;

/** Version stamp of everything the texts of (instance, org) are built from. */
export const customTextVersionSql = `SELECT count(*)::TEXT AS n, COALESCE(max("position"), 0)::TEXT AS "position"
  FROM eventstore.events2
 WHERE ${WHERE}`;

/**
 * The events themselves, message templates only: login UI texts use the same event types
 * with other templates and can be many. Events without a template (removals, default
 * language) match the '' entry of $5.
 */
export const customTextEventsSql = `SELECT aggregate_type, event_type, payload
  FROM eventstore.events2
 WHERE ${WHERE}
   AND COALESCE(payload->>'template', '') = ANY($5::TEXT[])
 ORDER BY "position", in_tx_order`;

const TEMPLATE_FILTER: readonly string[] = ['', ...MessageTypes];

/** template → language → key → text. */
type Layer = Map<string, Map<string, Map<TextKey, string>>>;

export interface TextLayers {
  readonly instance: Layer;
  readonly org: Layer;
  readonly defaultLanguage: string | undefined;
}

export interface TextEvent {
  readonly aggregateType: string;
  readonly eventType: string;
  readonly payload: unknown;
}

function field(payload: unknown, key: string): string | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const v = (payload as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : undefined;
}

function isTextKey(key: string | undefined): key is TextKey {
  return (TextKeys as readonly string[]).includes(key ?? '');
}

/** Applies one customtext event (type without its `instance.`/`org.` prefix) to a layer. */
function applyText(layer: Layer, action: string, payload: unknown): void {
  const template = field(payload, 'template');
  const language = field(payload, 'language');
  if (template === undefined || language === undefined) return;
  const key = field(payload, 'key');
  const languages = layer.get(template);
  switch (action) {
    case 'customtext.set': {
      const text = field(payload, 'text');
      if (!isTextKey(key) || text === undefined) return;
      const byLanguage = languages ?? new Map<string, Map<TextKey, string>>();
      layer.set(template, byLanguage);
      const keys = byLanguage.get(language) ?? new Map<TextKey, string>();
      byLanguage.set(language, keys);
      keys.set(key, text);
      return;
    }
    case 'customtext.removed':
      if (isTextKey(key)) languages?.get(language)?.delete(key);
      return;
    case 'customtext.template.removed':
      languages?.delete(language);
      return;
  }
}

/** Reduces the events (in position order) to the instance and organisation layers. */
export function reduceCustomTexts(events: readonly TextEvent[]): TextLayers {
  const instance: Layer = new Map();
  const org: Layer = new Map();
  let defaultLanguage: string | undefined;
  for (const e of events) {
    const isInstance = e.aggregateType === 'instance';
    const action = e.eventType.slice(isInstance ? 'instance.'.length : 'org.'.length);
    if (action === 'removed') {
      // instance.removed takes its organisations' texts with it.
      org.clear();
      if (isInstance) {
        instance.clear();
        defaultLanguage = undefined;
      }
    } else if (action === 'default.language.set') {
      defaultLanguage = field(e.payload, 'language') || undefined;
    } else {
      applyText(isInstance ? instance : org, action, e.payload);
    }
  }
  return { instance, org, defaultLanguage };
}

/** The custom texts of one template, per language: organisation over instance, per key. */
export function mergeTextLayers(layers: TextLayers, template: string): CustomTexts {
  const out: Record<string, Partial<Record<TextKey, string>>> = {};
  for (const layer of [layers.instance, layers.org]) {
    for (const [language, keys] of layer.get(template) ?? []) {
      const merged = (out[language] ??= {});
      // An empty text counts as unset, as messageTexts treats it.
      for (const [key, text] of keys) if (text) merged[key] = text;
    }
  }
  return out as Readonly<Record<string, MessageTexts>>;
}

/** Loads the layers of (instance, org) directly, without cache. */
export async function loadCustomTexts(db: Queryable, instanceId: string, orgId: string): Promise<TextLayers> {
  const { rows } = await db.query<{ aggregate_type: string; event_type: string; payload: unknown }>(
    customTextEventsSql,
    [instanceId, CUSTOM_TEXT_EVENTS.instance, orgId, CUSTOM_TEXT_EVENTS.org, TEMPLATE_FILTER],
  );
  return reduceCustomTexts(rows.map((r) => ({ aggregateType: r.aggregate_type, eventType: r.event_type, payload: r.payload })));
}

async function versionOf(db: Queryable, instanceId: string, orgId: string): Promise<string> {
  const { rows } = await db.query<{ n: string; position: string }>(customTextVersionSql, [
    instanceId,
    CUSTOM_TEXT_EVENTS.instance,
    orgId,
    CUSTOM_TEXT_EVENTS.org,
  ]);
  return `${rows[0]?.n ?? '0'}@${rows[0]?.position ?? '0'}`;
}

export interface CustomTextSource {
  /** Custom texts of `messageType` and the default language for a user of `orgId`. */
  settingsFor(instanceId: string, orgId: string, messageType: string): Promise<TextSettings>;
}

export interface CustomTextSourceOptions {
  readonly db: Queryable;
  /** Cached (instance, organisation) pairs; the least recently used is dropped. @defaultValue 1000 */
  readonly maxEntries?: number;
  /** Reuse a version stamp for this long per pair (a change applies within it). @defaultValue 0 */
  readonly versionTtlMs?: number;
}

interface Entry {
  readonly version: string;
  readonly layers: Promise<TextLayers>;
}

export function makeCustomTextSource(opts: CustomTextSourceOptions): CustomTextSource {
  const maxEntries = opts.maxEntries ?? 1000;
  const cache = new Map<string, Entry>();
  const stamps = makeRecent<string>(opts.versionTtlMs ?? 0);

  async function layersFor(instanceId: string, orgId: string): Promise<TextLayers> {
    const key = `${instanceId}\u0000${orgId}`;
    // The stamp is read before the events: a change between the two reads makes the next
    // stamp differ, so a cached entry is never newer-looking than its content.
    const version = await stamps.get(key, () => versionOf(opts.db, instanceId, orgId));
    let entry = cache.get(key);
    if (entry?.version !== version) {
      entry = { version, layers: loadCustomTexts(opts.db, instanceId, orgId) };
      const loading = entry;
      // A failed load must not stay cached; the caller sees the error (Postgres unavailable).
      loading.layers.catch(() => {
        if (cache.get(key) === loading) cache.delete(key);
      });
    }
    cache.delete(key);
    cache.set(key, entry);
    for (const oldest of cache.keys()) {
      if (cache.size <= maxEntries) break;
      cache.delete(oldest);
    }
    return entry.layers;
  }

  return {
    async settingsFor(instanceId, orgId, messageType) {
      const layers = await layersFor(instanceId, orgId);
      return {
        customTexts: mergeTextLayers(layers, messageType),
        ...(layers.defaultLanguage ? { defaultLanguage: layers.defaultLanguage } : {}),
      };
    },
  };
}
