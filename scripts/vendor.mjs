// Copies the pinned front-end packages from node_modules/ into static/vendor/<name>-<version>/,
// unmodified and with their licences. Run `npm ci && npm run vendor`, then update the paths in
// templates/base.html if a version changed.
import { cpSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const files = {
  backbone: ["backbone.js", "LICENSE"],
  underscore: ["underscore-umd.js", "LICENSE"],
  jquery: ["dist/jquery.min.js", "LICENSE.txt"],
  "todomvc-app-css": ["index.css", "license"],
  "todomvc-common": ["base.css", "license"],
  // Promises over IndexedDB, for the page's queue of changes not yet saved.
  idb: ["build/umd.js", "LICENSE"],
  // The accessibility checker the browser tests run inside the page.
  "axe-core": ["axe.min.js", "LICENSE", "LICENSE-3RD-PARTY.txt"],
};

rmSync("static/vendor", { recursive: true, force: true });
for (const [name, paths] of Object.entries(files)) {
  const root = join("node_modules", name);
  const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const target = join("static/vendor", `${name}-${version}`);
  mkdirSync(target, { recursive: true });
  for (const path of paths) {
    cpSync(join(root, path), join(target, path.split("/").pop()));
  }
  console.log(`${target}: ${paths.join(", ")}`);
}
