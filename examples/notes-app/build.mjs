// Builds the app into dist/: the bundle (esbuild, which also copies the package's .wasm beside
// it under its own name, so the service worker can list it), the worker, the static files, and
// the recovery folder's configuration. migrations.json is written twice from its one source —
// dist/ for the app's start-up, dist/recovery/ for the page rewind.json points at — so the app and
// its recovery page can never disagree on the history.
//   node build.mjs [outdir] [recovery folder]
// The recovery folder (`make recovery` in Rewind's repository → dist/recovery/) is copied into
// dist/recovery/ when it is there (by default ../../dist/recovery); the app only links it.
import { build } from "esbuild";
import { access, copyFile, cp, mkdir, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const exists = (p) => access(p).then(() => true, () => false);

export async function buildApp(outdir = join(HERE, "dist"), recovery = join(HERE, "..", "..", "dist", "recovery")) {
  outdir = resolve(outdir);
  await rm(outdir, { recursive: true, force: true });
  await mkdir(join(outdir, "recovery"), { recursive: true });
  await build({
    absWorkingDir: HERE, entryPoints: ["src/app.js"], bundle: true, format: "esm", minify: true,
    target: ["es2022"], loader: { ".wasm": "file" }, assetNames: "[name]", outdir, logLevel: "warning",
  });
  await cp(join(HERE, "public"), outdir, { recursive: true });
  await copyFile(join(HERE, "src", "sw.js"), join(outdir, "sw.js"));
  if (recovery && (await exists(join(recovery, "index.html")))) {
    await cp(recovery, join(outdir, "recovery"), { recursive: true });
  }
  // After the folder: this app's configuration, not the one the folder was built with.
  await copyFile(join(HERE, "recovery", "rewind.json"), join(outdir, "recovery", "rewind.json"));
  for (const dir of [outdir, join(outdir, "recovery")]) await copyFile(join(HERE, "migrations.json"), join(dir, "migrations.json"));
  return outdir;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`built ${await buildApp(process.argv[2], process.argv[3])}`);
}
