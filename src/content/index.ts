export type { BuildArgsInput } from './args.js';
export { buildArgs, urlArgs } from './args.js';
export type { RenderGoTemplateOptions } from './go-template.js';
export { escapeHtml, MAX_TEMPLATE_OUTPUT, renderGoTemplate } from './go-template.js';
export { DEFAULT_BRANDING } from './layout.js';
export {
  DEFAULT_LANGUAGE,
  isMessageType,
  messageTexts,
  pickLanguage,
  renderMessage,
  SUPPORTED_LANGUAGES,
} from './render.js';
export type { MessageCatalog } from './texts/catalog.js';
export * from './types.js';
