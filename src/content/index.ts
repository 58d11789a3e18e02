export type { BuildArgsInput } from './args.js';
export { buildArgs, urlArgs } from './args.js';
export type { RenderGoTemplateOptions } from './go-template.js';
export { escapeHtml, MAX_TEMPLATE_OUTPUT, renderGoTemplate } from './go-template.js';
export type { TextChoice } from './language.js';
export {
  chooseTexts,
  DEFAULT_LANGUAGE,
  matchLanguage,
  messageTexts,
  pickLanguage,
  SUPPORTED_LANGUAGES,
} from './language.js';
export { DEFAULT_BRANDING } from './layout.js';
export type { MailTemplateTexts } from './mail-template.js';
export {
  mailTemplateData,
  renderMailTemplate,
  ZITADEL_DEFAULT_COLORS,
  ZITADEL_DEFAULT_FONT_FAMILY,
} from './mail-template.js';
export { isMessageType, renderMessage } from './render.js';
export type { MessageCatalog } from './texts/catalog.js';
export * from './types.js';
