// In the page, for the WebDriver engines (Firefox, WebKit): finds the elements a chain of
// Playwright-style locator steps names, so the same e2e test files drive the page by role,
// accessible name, label and text in every engine. browsers.mjs sends this file as the start of
// a WebDriver script and calls rewindLocate(steps) (a WebDriver script is governed by no page
// CSP, so this works on the recovery page, which forbids eval).
//
// A step is one of
//   { by: "role", role, name?, level? }   elements of an ARIA role (implicit or explicit), by name
//   { by: "text", text }                  the innermost elements whose text matches
//   { by: "label", text }                 form controls by their label (aria-label, <label>…)
//   { by: "css", css }                    a CSS selector
//   { by: "filter", hasText?, has? }      keeps elements containing that text / that chain
// and a text is { s, exact } (exact: the whole text, case-sensitive; else a case-insensitive
// part) or { re: [source, flags] }; whitespace is collapsed first, as Playwright does.
// The subset of ARIA is the one the page uses; an unknown element has no role.

/* exported rewindLocate, rewindVisible */

function rewindNormalize(text) {
  return (text ?? "").replace(/\s+/g, " ").trim();
}

function rewindTextMatches(text, want) {
  const t = rewindNormalize(text);
  if (want.re) return new RegExp(want.re[0], want.re[1]).test(t);
  return want.exact ? t === rewindNormalize(want.s) : t.toLowerCase().includes(rewindNormalize(want.s).toLowerCase());
}

function rewindVisible(el) {
  if (!el.isConnected || el.closest("[hidden], [aria-hidden=true]")) return false;
  if (el.getClientRects().length === 0) return false;
  const style = getComputedStyle(el);
  return style.visibility !== "hidden" && style.visibility !== "collapse";
}

function rewindRole(el) {
  const explicit = el.getAttribute("role");
  if (explicit) return explicit.split(/\s+/)[0];
  const tag = el.localName;
  const type = (el.getAttribute("type") || "").toLowerCase();
  switch (tag) {
    case "button": return "button";
    case "a": return el.hasAttribute("href") ? "link" : null;
    case "h1": case "h2": case "h3": case "h4": case "h5": case "h6": return "heading";
    case "select": return el.multiple || el.size > 1 ? "listbox" : "combobox";
    case "textarea": return "textbox";
    case "progress": return "progressbar";
    case "output": return "status";
    case "dialog": return "dialog";
    case "table": return "table";
    case "tr": return "row";
    case "td": return "cell";
    case "th": {
      const scope = (el.getAttribute("scope") || "").toLowerCase();
      if (scope === "row" || scope === "rowgroup") return "rowheader";
      return "columnheader";
    }
    case "ul": case "ol": return "list";
    case "li": return "listitem";
    case "main": return "main";
    case "nav": return "navigation";
    case "form": return "form";
    case "img": return "img";
    case "section": return rewindLabelled(el) ? "region" : null;
    case "input":
      if (["button", "submit", "reset", "image"].includes(type)) return "button";
      if (type === "checkbox") return "checkbox";
      if (type === "radio") return "radio";
      if (["", "text", "search", "email", "url", "tel"].includes(type)) return "textbox";
      return null;
    default: return null;
  }
}

/** The name given by aria-labelledby, aria-label or <label>s; null when none is. */
function rewindLabelled(el) {
  const by = el.getAttribute("aria-labelledby");
  if (by) {
    return by.split(/\s+/).map((id) => document.getElementById(id)).filter(Boolean)
      .map((e) => rewindNormalize(e.textContent)).join(" ");
  }
  const aria = el.getAttribute("aria-label");
  if (aria && aria.trim()) return rewindNormalize(aria);
  if (el.labels && el.labels.length) return [...el.labels].map((l) => rewindNormalize(l.textContent)).join(" ");
  return null;
}

const REWIND_NAME_FROM_CONTENT = new Set(["button", "link", "heading", "checkbox", "radio", "cell",
  "columnheader", "rowheader", "listitem", "row", "tab", "option", "menuitem"]);

function rewindName(el) {
  const labelled = rewindLabelled(el);
  if (labelled !== null) return labelled;
  if (el.localName === "input" && ["button", "submit", "reset"].includes(el.type)) return el.value || "";
  if (REWIND_NAME_FROM_CONTENT.has(rewindRole(el))) return rewindNormalize(el.textContent);
  return el.getAttribute("title") || el.getAttribute("alt") || "";
}

function rewindDescendants(roots) {
  const seen = new Set();
  for (const root of roots) for (const el of root.querySelectorAll("*")) seen.add(el);
  return [...seen];
}

const REWIND_NO_TEXT = new Set(["script", "style", "template", "head", "noscript"]);

function rewindStep(roots, step) {
  switch (step.by) {
    case "role":
      return rewindDescendants(roots).filter((el) => rewindRole(el) === step.role && rewindVisible(el)
        && (step.level === undefined || el.localName === `h${step.level}` || Number(el.getAttribute("aria-level")) === step.level)
        && (!step.name || rewindTextMatches(rewindName(el), step.name)));
    case "text": {
      // The scope's own element counts too, as in Playwright (an alert whose text it is).
      const all = [...new Set([...roots, ...rewindDescendants(roots)])].filter((el) => !REWIND_NO_TEXT.has(el.localName) && rewindTextMatches(el.textContent, step.text));
      const matching = new Set(all);
      // The innermost: an element none of whose children matches as well.
      return all.filter((el) => ![...el.children].some((c) => matching.has(c)));
    }
    case "label":
      return rewindDescendants(roots).filter((el) => {
        const name = rewindLabelled(el);
        return name !== null && rewindTextMatches(name, step.text);
      });
    case "css": {
      const seen = new Set();
      for (const root of roots) for (const el of root.querySelectorAll(step.css)) seen.add(el);
      return [...seen];
    }
    case "filter":
      return roots.filter((el) => (!step.hasText || rewindTextMatches(el.textContent, step.hasText))
        && (!step.has || rewindChain([el], step.has).length > 0));
    default:
      throw new Error(`unknown locator step ${JSON.stringify(step)}`);
  }
}

function rewindChain(roots, steps) {
  let found = roots;
  for (const step of steps) found = rewindStep(found, step);
  return found;
}

/** The elements `steps` name in this document, in document order. */
function rewindLocate(steps) {
  return rewindChain([document.documentElement], steps);
}
