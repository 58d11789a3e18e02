/** herald's version, from package.json (one level above both src/ and dist/). */
import { createRequire } from 'node:module';

const pkg = createRequire(import.meta.url)('../package.json') as { version?: unknown };

export const VERSION: string = typeof pkg.version === 'string' ? pkg.version : '0.0.0';
