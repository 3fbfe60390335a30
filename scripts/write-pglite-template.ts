// Part of `npm run build`: the migrated embedded database that a fresh DATA_DIR starts from.
import { writePgliteTemplate } from '../src/db/pglite-template.js';
import { PGLITE_TEMPLATE_DIR } from '../src/package-files.js';

await writePgliteTemplate(PGLITE_TEMPLATE_DIR);
