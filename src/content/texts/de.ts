/**
 * herald's German default texts (informal "du"). Same variables as en.ts.
 */
import type { MessageCatalog } from './catalog.js';

export const de: MessageCatalog = {
  InitCode: {
    Title: 'Willkommen',
    PreHeader: 'Richte dein Konto ein',
    Subject: 'Richte dein Konto ein',
    Greeting: 'Hallo {{.DisplayName}},',
    Text: 'Für dich wurde ein Konto mit dem Loginnamen {{.PreferredLoginName}} angelegt. Um es einzurichten, nutze die Schaltfläche unten oder gib diesen Code ein: {{.Code}}',
    ButtonText: 'Konto einrichten',
  },
  PasswordReset: {
    Title: 'Passwort zurücksetzen',
    PreHeader: 'Wähle ein neues Passwort',
    Subject: 'Passwort zurücksetzen',
    Greeting: 'Hallo {{.DisplayName}},',
    Text: 'Jemand möchte dein Passwort zurücksetzen. Warst du das, nutze die Schaltfläche unten oder gib diesen Code ein: {{.Code}}. Sonst kannst du diese Nachricht ignorieren.',
    ButtonText: 'Neues Passwort wählen',
  },
  VerifyEmail: {
    Title: 'E-Mail-Adresse bestätigen',
    PreHeader: 'Bestätige deine E-Mail-Adresse',
    Subject: 'Bestätige deine E-Mail-Adresse',
    Greeting: 'Hallo {{.DisplayName}},',
    Text: 'Bitte bestätige, dass diese E-Mail-Adresse dir gehört. Nutze die Schaltfläche unten oder gib diesen Code ein: {{.Code}}',
    ButtonText: 'E-Mail bestätigen',
  },
  VerifyPhone: {
    Title: 'Telefonnummer bestätigen',
    PreHeader: 'Bestätige deine Telefonnummer',
    Subject: 'Bestätige deine Telefonnummer',
    Greeting: 'Hallo {{.DisplayName}},',
    Text: 'Dein Bestätigungscode für dein Telefon: {{.Code}}',
    ButtonText: 'Telefon bestätigen',
  },
  VerifySMSOTP: {
    Title: 'Dein Anmeldecode',
    PreHeader: 'Dein Anmeldecode',
    Subject: 'Dein Anmeldecode',
    Greeting: 'Hallo {{.DisplayName}},',
    Text: '{{.OTP}} ist dein Anmeldecode für {{.Domain}}. Er läuft in {{.Expiry}} ab.\n\n@{{.Domain}} #{{.OTP}}',
    ButtonText: 'Anmelden',
  },
  VerifyEmailOTP: {
    Title: 'Dein Anmeldecode',
    PreHeader: 'Dein Anmeldecode',
    Subject: 'Dein Anmeldecode',
    Greeting: 'Hallo {{.DisplayName}},',
    Text: 'Dein einmaliger Anmeldecode lautet {{.OTP}}. Gib ihn innerhalb von {{.Expiry}} ein oder nutze die Schaltfläche unten.',
    ButtonText: 'Anmelden',
  },
  DomainClaimed: {
    Title: 'Dein Loginname wurde geändert',
    PreHeader: 'Dein Loginname wurde geändert',
    Subject: 'Dein Loginname wurde geändert',
    Greeting: 'Hallo {{.DisplayName}},',
    Text: 'Die Domain {{.Domain}} wird jetzt von einer anderen Organisation verwaltet, deshalb wurde dein Benutzer {{.UserName}} in {{.TempUsername}} umbenannt. Melde dich mit {{.TempUsername}} an und wähle einen neuen Loginnamen.',
    ButtonText: 'Anmelden',
  },
  PasswordlessRegistration: {
    Title: 'Passkey hinzufügen',
    PreHeader: 'Füge deinem Konto einen Passkey hinzu',
    Subject: 'Füge deinem Konto einen Passkey hinzu',
    Greeting: 'Hallo {{.DisplayName}},',
    Text: 'Du möchtest dich ohne Passwort anmelden. Über die Schaltfläche unten registrierst du einen Passkey oder Sicherheitsschlüssel für dein Konto.',
    ButtonText: 'Passkey hinzufügen',
  },
  PasswordChange: {
    Title: 'Dein Passwort wurde geändert',
    PreHeader: 'Dein Passwort wurde geändert',
    Subject: 'Dein Passwort wurde geändert',
    Greeting: 'Hallo {{.DisplayName}},',
    Text: 'Das Passwort deines Kontos wurde soeben geändert. Warst du das nicht, setze dein Passwort sofort zurück.',
    ButtonText: 'Anmelden',
  },
  InviteUser: {
    Title: 'Einladung zu {{.ApplicationName}}',
    PreHeader: 'Du wurdest zu {{.ApplicationName}} eingeladen',
    Subject: 'Einladung zu {{.ApplicationName}}',
    Greeting: 'Hallo {{.DisplayName}},',
    Text: 'Du wurdest zu {{.ApplicationName}} eingeladen. Nutze die Schaltfläche unten, um die Einladung anzunehmen und dein Konto einzurichten.',
    ButtonText: 'Einladung annehmen',
  },
};
