// Writes completions/ and man/ from the option specs. Run with
// `npm run gen:docs` after changing src/commands/spec.ts; the drift test
// compares the checked-in files with this output.
import { writeFileSync, mkdirSync } from 'node:fs';
import { bashCompletion, zshCompletion, fishCompletion } from './docs/completions.js';
import { manPage } from './docs/man-page.js';
import { version } from './version.js';

const root = new URL('../', import.meta.url);
mkdirSync(new URL('completions/', root), { recursive: true });
mkdirSync(new URL('man/', root), { recursive: true });
writeFileSync(new URL('completions/profctl.bash', root), bashCompletion());
writeFileSync(new URL('completions/_profctl', root), zshCompletion());
writeFileSync(new URL('completions/profctl.fish', root), fishCompletion());
writeFileSync(new URL('man/profctl.1', root), manPage(version));
process.stderr.write('wrote completions/profctl.bash, completions/_profctl, completions/profctl.fish, man/profctl.1\n');
