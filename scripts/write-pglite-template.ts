// Part of `npm run build`: the migrated embedded database that a fresh DATA_DIR starts from.
// Usage: node dist/scripts/write-pglite-template.js [pgdata folder; default: the one in dist/]
import { writePgliteTemplate } from '../src/db/pglite-template.js';
import { PGLITE_TEMPLATE_DIR } from '../src/package-files.js';

await writePgliteTemplate(process.argv[2] ?? PGLITE_TEMPLATE_DIR);
