// Trunk post-build hook: moves Trunk's inline loader script into a file and adds the page's
// Content-Security-Policy, so the page runs with `script-src 'self' 'wasm-unsafe-eval'` and no
// inline script at all.
import { readFile, writeFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { join } from "node:path";

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) {
  console.error("csp.mjs runs as a Trunk post_build hook (TRUNK_STAGING_DIR is not set)");
  process.exit(1);
}
const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

const file = join(dir, "index.html");
let html = await readFile(file, "utf8");
const inline = /<script type="module">([\s\S]*?)<\/script>/g;
const moved = [];
html = html.replace(inline, (_, body) => {
  const name = `boot-${createHash("sha256").update(body).digest("hex").slice(0, 16)}.js`;
  moved.push(writeFile(join(dir, name), body));
  // Under Trunk's public URL, as its own files are: "./" in the release build (`make recovery`),
  // whose folder an app copies under any path of its site.
  return `<script type="module" src="${process.env.TRUNK_PUBLIC_URL ?? "/"}${name}"></script>`;
});
await Promise.all(moved);
const count = moved.length;
if (count !== 1) {
  console.error(`csp.mjs: expected Trunk's one inline loader script, found ${count}`);
  process.exit(1);
}
if (/<script(?![^>]*\bsrc=)[^>]*>/.test(html)) {
  console.error("csp.mjs: an inline script is left in index.html");
  process.exit(1);
}
html = html.replace(
  "<head>",
  `<head>\n    <meta http-equiv="Content-Security-Policy" content="${CSP}" />`,
);
await writeFile(file, html);
