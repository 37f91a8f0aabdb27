// The browser side of the page's configuration (web/src/config_load.rs): fetching rewind.json
// and the migrations it names, and importing the app's transforms module. In a file of its
// own because a dynamic import() must be JavaScript, and the page's CSP (script-src 'self')
// allows a same-origin module imported from it.

/** Resolves `url` against `base`; throws a TypeError for a URL that cannot be. */
export function resolveUrl(url, base) {
  return new URL(url, base).href;
}

/** The page's own address, the base of rewind.json. */
export function pageUrl() {
  return document.baseURI;
}

/** Whether `url` is of the page's own origin. */
export function sameOrigin(url) {
  return new URL(url).origin === self.location.origin;
}

/** Fetches `url`: { status, text } (text only when the answer is 2xx). Throws when there is no
 * answer at all (no network and nothing cached). */
export async function fetchText(url) {
  const response = await fetch(url, { cache: "no-cache" });
  return { status: response.status, text: response.ok ? await response.text() : null };
}

/** The functions the module at `url` (absolute) exports, by name (its other exports, such as
 * constants it shares with the app, are not transforms). */
export async function importTransforms(url) {
  const exports = await import(url);
  return Object.fromEntries(Object.entries(exports).filter(([, v]) => typeof v === "function"));
}
