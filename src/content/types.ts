/** Inputs and outputs of message rendering. */

/** A value a template may print. Callers pre-format Go types (durations, times). */
export type TemplateValue = string | number | boolean | readonly string[] | null | undefined;
export type TemplateArgs = Readonly<Record<string, TemplateValue>>;

/** ZITADEL MessageTypes (internal/domain/custom_message_text.go). */
export const MessageTypes = [
  'InitCode',
  'PasswordReset',
  'VerifyEmail',
  'VerifyPhone',
  'VerifySMSOTP',
  'VerifyEmailOTP',
  'DomainClaimed',
  'PasswordlessRegistration',
  'PasswordChange',
  'InviteUser',
] as const;
export type MessageType = (typeof MessageTypes)[number];

/** Text keys of a message (i18n id = `<MessageType>.<Key>`). */
export const TextKeys = ['Title', 'PreHeader', 'Subject', 'Greeting', 'Text', 'ButtonText', 'Footer'] as const;
export type TextKey = (typeof TextKeys)[number];
export type MessageTexts = Readonly<Partial<Record<TextKey, string>>>;

/**
 * Custom texts of one message type by language tag as ZITADEL stores it (`de`, `de-CH`),
 * already merged: organisation over instance, per (language, key).
 */
export type CustomTexts = Readonly<Record<string, MessageTexts>>;

/** Everything besides herald's defaults that decides which texts a message gets. */
export interface TextSettings {
  /** The message type's custom texts (instance and organisation). */
  readonly customTexts?: CustomTexts;
  /** The instance default language (`instance.default.language.set`): used when the user's is unknown. */
  readonly defaultLanguage?: string;
  /**
   * The instance's allowed languages (`restrictions.set`); empty or absent means all. A
   * preferred language outside them counts as unknown, so the default language is used.
   */
  readonly allowedLanguages?: readonly string[];
}

export interface Branding {
  readonly primaryColor: string;
  readonly backgroundColor: string;
  readonly fontColor: string;
  readonly logoUrl?: string;
  readonly fontUrl?: string;
  /** The custom font's file name (ZITADEL's FontFaceFamily). */
  readonly fontFaceFamily?: string;
  /** The CSS font list: the custom font first, then ZITADEL's default family. */
  readonly fontFamily?: string;
}

export interface RenderInput extends TextSettings {
  readonly messageType: string;
  /** The user's preferred language (BCP-47, may be "und" or empty). */
  readonly language: string;
  readonly channel: 'email' | 'sms';
  /** Every arg ZITADEL offers (Code, OTP, UserID, DisplayName, Origin, ...). */
  readonly args: TemplateArgs;
  /** The request's urlTemplate (Go text/template); empty means no link. */
  readonly urlTemplate?: string;
  readonly branding?: Branding;
  /**
   * The instance's or organisation's custom mail template (Go html/template syntax); when
   * set it replaces herald's HTML layout.
   */
  readonly mailTemplate?: string;
  /** Text overrides per key, laid over everything else whatever the language. */
  readonly overrides?: MessageTexts;
}

/** ZITADEL's templates.TemplateData, field for field (Go names: custom mail templates use them). */
export interface MailTemplateData {
  readonly Title: string;
  readonly PreHeader: string;
  readonly Subject: string;
  readonly Greeting: string;
  readonly Text: string;
  readonly URL: string;
  readonly ButtonText: string;
  readonly PrimaryColor: string;
  readonly BackgroundColor: string;
  readonly FontColor: string;
  readonly LogoURL: string;
  readonly FontURL: string;
  readonly FontFaceFamily: string;
  readonly FontFamily: string;
  readonly IncludeFooter: boolean;
  readonly FooterText: string;
}

export interface RenderedEmail {
  readonly kind: 'email';
  readonly language: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  readonly url: string;
  /** ZITADEL's TemplateData for this message (the HTTP provider's `templateData`). */
  readonly templateData: MailTemplateData;
}

export interface RenderedSms {
  readonly kind: 'sms';
  readonly language: string;
  readonly text: string;
  readonly templateData: MailTemplateData;
}

export type Rendered = RenderedEmail | RenderedSms;
