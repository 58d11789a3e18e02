/**
 * The template args ZITADEL offers to URL templates and message texts
 * (zitadel-facts.md §3, §7): request args via NotificationArguments.ToMap,
 * the code, and the user fields from mapNotifyUserToArgs.
 */
import { formatGoDuration } from '../config/duration.js';
import type { NotificationArgs, NotificationRequest, NotifyUser } from '../eventstore/notification-types.js';
import { escapeHtml } from './go-template.js';
import type { TemplateArgs, TemplateValue } from './types.js';

export interface BuildArgsInput {
  readonly request: NotificationRequest;
  readonly user: NotifyUser;
  /** The decrypted code ("" when the request has none). */
  readonly code: string;
  /** The origin the notification was triggered at (request.triggeredAtOrigin or the instance's). */
  readonly origin: string;
}

const NS_PER_MS = 1_000_000;

/**
 * NotificationArguments.ToMap: every key is present when the request has args
 * (nil args give an empty map, so templates print `<no value>`). Origin falls
 * back to the resolved origin: ZITADEL would print "" there, which no text wants.
 */
function requestArgs(args: NotificationArgs | undefined, origin: string): Record<string, TemplateValue> {
  if (!args) return origin ? { Origin: origin } : {};
  return {
    Origin: args.origin || origin,
    Domain: args.domain ?? '',
    // time.Duration prints through its String method, e.g. "5m0s".
    Expiry: formatGoDuration((args.expiry ?? 0) / NS_PER_MS),
    TempUsername: args.tempUsername ?? '',
    ApplicationName: args.applicationName ?? '',
    CodeID: args.codeID ?? '',
    SessionID: args.sessionID ?? '',
    AuthRequestID: args.authRequestID ?? '',
  };
}

/** mapNotifyUserToArgs (internal/notification/types/user_email.go). */
function userArgs(user: NotifyUser): Record<string, TemplateValue> {
  return {
    UserID: user.ID,
    OrgID: user.ResourceOwner,
    UserName: user.Username,
    FirstName: user.FirstName,
    LastName: user.LastName,
    NickName: user.NickName,
    DisplayName: user.DisplayName,
    LastEmail: user.LastEmail,
    VerifiedEmail: user.VerifiedEmail,
    LastPhone: user.LastPhone,
    VerifiedPhone: user.VerifiedPhone,
    PreferredLoginName: user.PreferredLoginName,
    // Some endpoints promoted LoginName instead of PreferredLoginName.
    LoginName: user.PreferredLoginName,
    // A nil TextArray prints "[]" in Go, the same as an empty list.
    LoginNames: user.LoginNames ?? [],
    ChangeDate: user.ChangeDate,
    CreationDate: user.CreationDate,
  };
}

/** All args for one notification, as the ZITADEL worker assembles them. */
export function buildArgs(input: BuildArgsInput): Record<string, TemplateValue> {
  const args: Record<string, TemplateValue> = {
    ...requestArgs(input.request.args, input.origin),
    Code: input.code,
  };
  // ZITADEL sets OTP only for OTP requests ("existing notifications use `OTP`"),
  // so `{{.OTP}}` elsewhere prints `<no value>` exactly as it does there.
  if (input.request.isOTP) args.OTP = input.code;
  return { ...args, ...userArgs(input.user) };
}

/**
 * The args the URL template sees. The email path HTML-escapes every string arg
 * first (ZITADEL does, with html.EscapeString); lists and the SMS path are left as-is.
 */
export function urlArgs(args: TemplateArgs, channel: 'email' | 'sms'): TemplateArgs {
  if (channel === 'sms') return args;
  const out: Record<string, TemplateValue> = {};
  for (const [k, v] of Object.entries(args)) out[k] = typeof v === 'string' ? escapeHtml(v) : v;
  return out;
}
