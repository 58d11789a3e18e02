import type { MessageTexts, MessageType } from '../types.js';

/** Default texts of one language: every message type, every key but Footer. */
export type MessageCatalog = Readonly<Record<MessageType, MessageTexts>>;
