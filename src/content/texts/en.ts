/**
 * herald's English default texts. Our own wording; the variables are the ones
 * ZITADEL's defaults use, so custom texts written for ZITADEL keep working.
 * VerifyPhone and VerifySMSOTP are SMS texts and stay short; the SMS OTP text
 * ends with the WebOTP line (`@domain #code`) so browsers can autofill it.
 */
import type { MessageCatalog } from './catalog.js';

export const en: MessageCatalog = {
  InitCode: {
    Title: 'Welcome aboard',
    PreHeader: 'Set up your account',
    Subject: 'Set up your account',
    Greeting: 'Hello {{.DisplayName}},',
    Text: 'An account has been created for you with the login name {{.PreferredLoginName}}. To finish setting it up, use the button below or enter this code: {{.Code}}',
    ButtonText: 'Set up account',
  },
  PasswordReset: {
    Title: 'Reset your password',
    PreHeader: 'Choose a new password',
    Subject: 'Reset your password',
    Greeting: 'Hello {{.DisplayName}},',
    Text: 'Someone asked to reset your password. If that was you, use the button below or enter this code: {{.Code}}. If not, you can ignore this message.',
    ButtonText: 'Choose new password',
  },
  VerifyEmail: {
    Title: 'Confirm your email address',
    PreHeader: 'Confirm your email address',
    Subject: 'Confirm your email address',
    Greeting: 'Hello {{.DisplayName}},',
    Text: 'Please confirm that this email address belongs to you. Use the button below or enter this code: {{.Code}}',
    ButtonText: 'Confirm email',
  },
  VerifyPhone: {
    Title: 'Confirm your phone number',
    PreHeader: 'Confirm your phone number',
    Subject: 'Confirm your phone number',
    Greeting: 'Hello {{.DisplayName}},',
    Text: 'Your phone verification code: {{.Code}}',
    ButtonText: 'Confirm phone',
  },
  VerifySMSOTP: {
    Title: 'Your sign-in code',
    PreHeader: 'Your sign-in code',
    Subject: 'Your sign-in code',
    Greeting: 'Hello {{.DisplayName}},',
    Text: '{{.OTP}} is your sign-in code for {{.Domain}}. It expires in {{.Expiry}}.\n\n@{{.Domain}} #{{.OTP}}',
    ButtonText: 'Sign in',
  },
  VerifyEmailOTP: {
    Title: 'Your sign-in code',
    PreHeader: 'Your sign-in code',
    Subject: 'Your sign-in code',
    Greeting: 'Hello {{.DisplayName}},',
    Text: 'Your one-time sign-in code is {{.OTP}}. Enter it within {{.Expiry}} or use the button below.',
    ButtonText: 'Sign in',
  },
  DomainClaimed: {
    Title: 'Your login name has changed',
    PreHeader: 'Your login name has changed',
    Subject: 'Your login name has changed',
    Greeting: 'Hello {{.DisplayName}},',
    Text: 'The domain {{.Domain}} is now managed by another organisation, so your user {{.UserName}} was renamed to {{.TempUsername}}. Please sign in with {{.TempUsername}} and pick a new login name.',
    ButtonText: 'Sign in',
  },
  PasswordlessRegistration: {
    Title: 'Add a passkey',
    PreHeader: 'Add a passkey to your account',
    Subject: 'Add a passkey to your account',
    Greeting: 'Hello {{.DisplayName}},',
    Text: 'You asked to sign in without a password. Use the button below to register a passkey or security key for your account.',
    ButtonText: 'Add passkey',
  },
  PasswordChange: {
    Title: 'Your password was changed',
    PreHeader: 'Your password was changed',
    Subject: 'Your password was changed',
    Greeting: 'Hello {{.DisplayName}},',
    Text: 'The password of your account was just changed. If you did not do this, reset your password right away.',
    ButtonText: 'Sign in',
  },
  InviteUser: {
    Title: 'You are invited to {{.ApplicationName}}',
    PreHeader: 'You are invited to {{.ApplicationName}}',
    Subject: 'You are invited to {{.ApplicationName}}',
    Greeting: 'Hello {{.DisplayName}},',
    Text: 'You have been invited to {{.ApplicationName}}. Use the button below to accept the invitation and set up your account.',
    ButtonText: 'Accept invitation',
  },
};
