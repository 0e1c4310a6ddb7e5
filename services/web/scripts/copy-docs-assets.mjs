// Copies Swagger UI and ReDoc into dist/docs-assets so /docs and /redoc work without internet.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
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
// ReDoc's footer fetches its logo from a CDN: point it at a local blank image instead.
const redoc = join(out, "redoc.standalone.js");
const blank = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E";
writeFileSync(
  redoc,
  readFileSync(redoc, "utf8").replaceAll("https://cdn.redoc.ly/redoc/logo-mini.svg", blank),
);
copyFileSync(join(root, "docs-init", "swagger-init.js"), join(out, "swagger-init.js"));
copyFileSync(join(root, "docs-init", "redoc-init.js"), join(out, "redoc-init.js"));
