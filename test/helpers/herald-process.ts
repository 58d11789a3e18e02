/** Runs the herald CLI from source in a child process (tests spawn it with `node --import tsx`). */
import { main } from '../../src/cli.js';

main(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
