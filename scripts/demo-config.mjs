// Trunk post-build hook: in a demo build (REWIND_DEMO=1: `make serve`, the e2e tiers' demo
// build) the page gets the demo app's configuration beside it, as any app would write one:
// web/demo/rewind.json and transforms.js, and migrations.json made from migrations/*.json (the
// one source of the demo's history). A release build (`make recovery`) has none: the app
// that copies the page writes its own.
import { readFile, readdir, writeFile, copyFile } from "node:fs/promises";
import { join } from "node:path";

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) {
  console.error("demo-config.mjs runs as a Trunk post_build hook (TRUNK_STAGING_DIR is not set)");
  process.exit(1);
}
if (process.env.REWIND_DEMO === "1") {
  const root = new URL("..", import.meta.url).pathname;
  const files = (await readdir(join(root, "migrations"))).filter((f) => f.endsWith(".json")).sort();
  const migrations = await Promise.all(
    files.map(async (f) => JSON.parse(await readFile(join(root, "migrations", f), "utf8"))));
  await writeFile(join(dir, "migrations.json"), JSON.stringify(migrations, null, 1));
  for (const f of ["rewind.json", "transforms.js"]) await copyFile(join(root, "web/demo", f), join(dir, f));
}
