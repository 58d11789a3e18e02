/**
 * Custom texts read from ZITADEL's customtext events (real Postgres, rows as ZITADEL writes
 * them), merged org > instance > herald, per language, then rendered.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { renderMessage, type TextSettings } from '../../src/content/index.js';
import { type Keyring, makeKeyring } from '../../src/crypto/keyring.js';
import { migrate } from '../../src/eventstore/schema.js';
import type { Queryable } from '../../src/eventstore/types.js';
import { customTextsFor } from '../../src/instance/custom-texts.js';
import { selectInstanceSettingsEventsSql, selectOrgSettingsEventsSql } from '../../src/instance/events.js';
import { makeInstanceSettings } from '../../src/instance/settings.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertZitadelEvents } from '../helpers/events.js';
import { newId } from '../helpers/zitadel.js';

const logger = pino({ level: 'silent' });
let db: TestDatabase;
let keyring: Keyring;

beforeAll(async () => {
  db = await createTestDatabase();
  await migrate(db.pool, { logger });
  keyring = makeKeyring({ keys: {} }, db.pool);
});

interface CustomTextSource {
  settingsFor(instanceId: string, orgId: string, template: string): Promise<TextSettings>;
}

/** Texts as the pipeline takes them from the instance settings read model. */
function makeTextSource(opts: { pool?: Queryable; maxOrgs?: number } = {}): CustomTextSource {
  const settings = makeInstanceSettings({ pool: opts.pool ?? db.pool, keyring, logger, ...(opts.maxOrgs ? { maxOrgs: opts.maxOrgs } : {}) });
  return {
    async settingsFor(instanceId, orgId, template) {
      const s = await settings.get(instanceId, orgId);
      return { customTexts: customTextsFor(s.texts, template), ...(s.defaultLanguage ? { defaultLanguage: s.defaultLanguage } : {}) };
    },
  };
}
afterAll(async () => {
  await db.drop();
});

interface Scope {
  readonly instanceId: string;
  readonly orgId: string;
}

function scope(): Scope {
  return { instanceId: newId(), orgId: newId() };
}

type Level = 'instance' | 'org';

function aggregate(s: Scope, level: Level) {
  return level === 'instance'
    ? { instanceId: s.instanceId, aggregateType: 'instance', aggregateId: s.instanceId, owner: s.instanceId, creator: 'admin' }
    : { instanceId: s.instanceId, aggregateType: 'org', aggregateId: s.orgId, owner: s.orgId, creator: 'admin' };
}

async function setText(s: Scope, level: Level, template: string, language: string, key: string, text: string) {
  await insertZitadelEvents(db.pool, [{ ...aggregate(s, level), eventType: `${level}.customtext.set`, payload: { template, key, language, text } }]);
}

async function removeText(s: Scope, level: Level, template: string, language: string, key: string) {
  await insertZitadelEvents(db.pool, [{ ...aggregate(s, level), eventType: `${level}.customtext.removed`, payload: { template, key, language } }]);
}

async function removeTemplate(s: Scope, level: Level, template: string, language: string) {
  await insertZitadelEvents(db.pool, [
    { ...aggregate(s, level), eventType: `${level}.customtext.template.removed`, payload: { template, language } },
  ]);
}

const ARGS = { DisplayName: 'Ada', Code: 'K7Q9ZX', PreferredLoginName: 'ada' };

function render(settings: TextSettings, language: string, messageType = 'InitCode') {
  const r = renderMessage({ messageType, language, channel: 'email', args: ARGS, ...settings });
  if (r.kind !== 'email') throw new Error('expected an email');
  return r;
}

describe('custom texts from events', () => {
  let source: CustomTextSource;
  beforeAll(() => {
    source = makeTextSource();
  });

  it('an instance text overrides herald’s text for that key and language only', async () => {
    const s = scope();
    await setText(s, 'instance', 'InitCode', 'en', 'Subject', 'Welcome to ACME, {{.DisplayName}}');
    const settings = await source.settingsFor(s.instanceId, s.orgId, 'InitCode');
    expect(settings.customTexts).toEqual({ en: { Subject: 'Welcome to ACME, {{.DisplayName}}' } });
    const mail = render(settings, 'en');
    expect(mail.subject).toBe('Welcome to ACME, Ada');
    expect(mail.text).toContain('K7Q9ZX'); // Text is still herald's
    expect(render(settings, 'de').subject).toBe(render({}, 'de').subject);
    // Another template of the same instance is untouched.
    expect((await source.settingsFor(s.instanceId, s.orgId, 'PasswordReset')).customTexts).toEqual({});
  });

  it('an organisation text beats the instance text; other organisations keep the instance text', async () => {
    const s = scope();
    await setText(s, 'instance', 'InitCode', 'en', 'Subject', 'Instance subject');
    await setText(s, 'instance', 'InitCode', 'en', 'Greeting', 'Instance greeting');
    await setText(s, 'org', 'InitCode', 'en', 'Subject', 'Org subject for {{.DisplayName}}');
    const mine = await source.settingsFor(s.instanceId, s.orgId, 'InitCode');
    expect(mine.customTexts).toEqual({ en: { Subject: 'Org subject for {{.DisplayName}}', Greeting: 'Instance greeting' } });
    expect(render(mine, 'en').subject).toBe('Org subject for Ada');
    const other = await source.settingsFor(s.instanceId, newId(), 'InitCode');
    expect(render(other, 'en').subject).toBe('Instance subject');
  });

  it('a German override does not affect English, and de-CH users get the German one', async () => {
    const s = scope();
    await setText(s, 'org', 'VerifyEmail', 'de', 'Subject', 'Bitte bestätigen, {{.DisplayName}}');
    const settings = await source.settingsFor(s.instanceId, s.orgId, 'VerifyEmail');
    expect(render(settings, 'de', 'VerifyEmail').subject).toBe('Bitte bestätigen, Ada');
    expect(render(settings, 'de-CH', 'VerifyEmail')).toMatchObject({ language: 'de', subject: 'Bitte bestätigen, Ada' });
    expect(render(settings, 'en', 'VerifyEmail').subject).toBe(render({}, 'en', 'VerifyEmail').subject);
  });

  it('removing a key falls back to the next layer; removing a template clears that language only', async () => {
    const s = scope();
    await setText(s, 'instance', 'InitCode', 'en', 'Subject', 'Instance subject');
    await setText(s, 'org', 'InitCode', 'en', 'Subject', 'Org subject');
    await setText(s, 'org', 'InitCode', 'en', 'Title', 'Org title');
    await setText(s, 'org', 'InitCode', 'de', 'Subject', 'Org Betreff');
    expect(render(await source.settingsFor(s.instanceId, s.orgId, 'InitCode'), 'en').subject).toBe('Org subject');

    await removeText(s, 'org', 'InitCode', 'en', 'Subject');
    const afterKey = await source.settingsFor(s.instanceId, s.orgId, 'InitCode');
    expect(afterKey.customTexts).toEqual({ en: { Subject: 'Instance subject', Title: 'Org title' }, de: { Subject: 'Org Betreff' } });

    await removeTemplate(s, 'org', 'InitCode', 'en');
    const afterTemplate = await source.settingsFor(s.instanceId, s.orgId, 'InitCode');
    expect(afterTemplate.customTexts).toEqual({ en: { Subject: 'Instance subject' }, de: { Subject: 'Org Betreff' } });

    await removeTemplate(s, 'instance', 'InitCode', 'en');
    expect(render(await source.settingsFor(s.instanceId, s.orgId, 'InitCode'), 'en').subject).toBe(render({}, 'en').subject);
  });

  it('org.removed drops the organisation’s texts, instance.removed everything', async () => {
    const s = scope();
    await setText(s, 'instance', 'InitCode', 'en', 'Subject', 'Instance subject');
    await setText(s, 'org', 'InitCode', 'en', 'Subject', 'Org subject');
    await insertZitadelEvents(db.pool, [{ ...aggregate(s, 'org'), eventType: 'org.removed', payload: { name: 'acme' } }]);
    expect((await source.settingsFor(s.instanceId, s.orgId, 'InitCode')).customTexts).toEqual({ en: { Subject: 'Instance subject' } });
    await insertZitadelEvents(db.pool, [{ ...aggregate(s, 'instance'), eventType: 'instance.removed', payload: null }]);
    expect((await source.settingsFor(s.instanceId, s.orgId, 'InitCode')).customTexts).toEqual({});
  });

  it('falls back to the instance default language, and serves a language only custom texts provide', async () => {
    const s = scope();
    await insertZitadelEvents(db.pool, [{ ...aggregate(s, 'instance'), eventType: 'instance.default.language.set', payload: { language: 'de' } }]);
    await setText(s, 'instance', 'InitCode', 'fr', 'Subject', 'Bienvenue {{.DisplayName}}');
    const settings = await source.settingsFor(s.instanceId, s.orgId, 'InitCode');
    expect(settings.defaultLanguage).toBe('de');
    // No texts in Italian: the instance default (German), as ZITADEL's bundle does.
    expect(render(settings, 'it')).toMatchObject({ language: 'de', subject: render({}, 'de').subject });
    expect(render(settings, '')).toMatchObject({ language: 'de' });
    // French exists only as a custom Subject: French subject, other keys from herald's German.
    const fr = render(settings, 'fr-FR');
    expect(fr).toMatchObject({ language: 'fr', subject: 'Bienvenue Ada' });
    expect(fr.html).toContain('lang="fr"');
    expect(fr.text).toContain(render({}, 'de').text.split('\n')[0]);
    // Without a default language the fallback is English.
    const plain = scope();
    expect(render(await source.settingsFor(plain.instanceId, plain.orgId, 'InitCode'), 'it').language).toBe('en');
  });

  it('login texts and unknown keys are ignored', async () => {
    const s = scope();
    await setText(s, 'instance', 'Login', 'en', 'Title', 'Login title');
    await setText(s, 'instance', 'InitCode', 'en', 'Signature', 'not a message key');
    expect((await source.settingsFor(s.instanceId, s.orgId, 'InitCode')).customTexts).toEqual({});
  });
});

/** A Queryable that counts how often each half (instance, org) of the settings is re-read. */
function countingLoads(): { counting: Queryable; loads: () => { instance: number; org: number } } {
  const n = { instance: 0, org: 0 };
  const counting: Queryable = {
    query: ((text: string, values?: unknown[]) => {
      if (text === selectInstanceSettingsEventsSql) n.instance++;
      if (text === selectOrgSettingsEventsSql) n.org++;
      return db.pool.query(text, values);
    }) as Queryable['query'],
  };
  return { counting, loads: () => ({ ...n }) };
}

describe('cache (one version check with the other settings)', () => {
  it('reloads only the half whose customtext events moved, including a late commit below the max position', async () => {
    const { counting, loads } = countingLoads();
    const source = makeTextSource({ pool: counting });
    const s = scope();
    await setText(s, 'instance', 'InitCode', 'en', 'Subject', 'First');
    expect((await source.settingsFor(s.instanceId, s.orgId, 'InitCode')).customTexts).toEqual({ en: { Subject: 'First' } });
    await source.settingsFor(s.instanceId, s.orgId, 'InitCode');
    await source.settingsFor(s.instanceId, s.orgId, 'VerifyEmail');
    expect(loads()).toEqual({ instance: 1, org: 1 });

    await setText(s, 'org', 'InitCode', 'en', 'Subject', 'Second');
    expect((await source.settingsFor(s.instanceId, s.orgId, 'InitCode')).customTexts).toEqual({ en: { Subject: 'Second' } });
    expect(loads()).toEqual({ instance: 1, org: 2 });

    // A transaction that took its position early and committed late: below the max position.
    await db.pool.query(
      `INSERT INTO eventstore.events2 (instance_id, "owner", aggregate_type, aggregate_id, revision, creator, event_type,
         payload, "sequence", created_at, "position", in_tx_order)
       VALUES ($1, $1, 'instance', $1, 1, 'admin', 'instance.customtext.set', $2, 999, now(), 1, 0)`,
      [s.instanceId, JSON.stringify({ template: 'InitCode', key: 'Title', language: 'en', text: 'Late' })],
    );
    expect((await source.settingsFor(s.instanceId, s.orgId, 'InitCode')).customTexts).toEqual({
      en: { Title: 'Late', Subject: 'Second' },
    });
    expect(loads()).toEqual({ instance: 2, org: 2 });
  });

  it('keeps at most maxOrgs (instance, organisation) pairs', async () => {
    const { counting, loads } = countingLoads();
    const source = makeTextSource({ pool: counting, maxOrgs: 2 });
    const [a, b, c] = [scope(), scope(), scope()];
    for (const s of [a, b, c, a]) await source.settingsFor(s.instanceId, s.orgId, 'InitCode');
    expect(loads().org).toBe(4); // a was evicted by c
    await source.settingsFor(c.instanceId, c.orgId, 'InitCode');
    expect(loads().org).toBe(4);
  });
});
