// Copies Swagger UI and ReDoc into dist/docs-assets so /docs and /redoc work without internet.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist", "docs-assets");
mkdirSync(out, { recursive: true });
const files = [
  ["swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui-bundle.js"],
  ["swagger-ui-dist/swagger-ui.css", "swagger-ui.css"],
  ["redoc/bundles/redoc.standalone.js", "redoc.standalone.js"],
];
for (const [from, to] of files) {
  copyFileSync(join(root, "node_modules", from), join(out, to));
}
copyFileSync(join(root, "docs-init", "swagger-init.js"), join(out, "swagger-init.js"));
copyFileSync(join(root, "docs-init", "redoc-init.js"), join(out, "redoc-init.js"));
