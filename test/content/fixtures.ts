import type { NotificationRequest, NotifyUser } from '../../src/eventstore/notification-types.js';

export function makeUser(overrides: Partial<NotifyUser> = {}): NotifyUser {
  return {
    ID: 'u1',
    CreationDate: '2024-11-05T10:00:00.123456Z',
    ChangeDate: '2024-11-06T10:00:00Z',
    ResourceOwner: 'org1',
    Sequence: 3,
    State: 1,
    Type: 1,
    Username: 'ada',
    LoginNames: ['ada@example.com', 'ada@other.example'],
    PreferredLoginName: 'ada@example.com',
    FirstName: 'Ada',
    LastName: 'Lovelace',
    NickName: 'ada',
    DisplayName: 'Ada Lovelace',
    AvatarKey: '',
    PreferredLanguage: 'en',
    Gender: 1,
    LastEmail: 'ada@example.com',
    VerifiedEmail: 'ada@example.com',
    LastPhone: '+41790000000',
    VerifiedPhone: '',
    PasswordSet: false,
    ...overrides,
  };
}

export function makeRequest(overrides: Partial<NotificationRequest> = {}): NotificationRequest {
  return {
    userID: 'u1',
    userResourceOwner: 'org1',
    notificationAggregateID: '',
    notificationAggregateResourceOwner: '',
    triggeredAtOrigin: 'https://auth.example.com',
    eventType: 'user.human.initialization.code.added',
    messageType: 'InitCode',
    notificationType: 0,
    ...overrides,
  };
}
