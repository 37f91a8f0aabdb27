// A soak outside `make test`: does the engine itself (no Rewind) keep an aborted upgrade's new
// index when the tab running the upgrade is closed? Raw IndexedDB only: a database at version 1
// (store `items`, 1 500 records), then a tab opens version 2 whose upgrade rewrites every record
// (getAll batches, puts), creates index `by_words` and writes a `meta` record, like a Rewind
// migration; the tab is closed at spread times. A new tab then reads the version and the
// indexes: version 1 with `by_words` is the engine's defect (docs/reliability.md, Findings 4).
//
//   REWIND_ENGINE=firefox CLOSES=40 VARIANT=migrate node --test tests/faults/soak/raw-close.mjs
// VARIANT: "migrate" (data steps, then createIndex, then a put: the default) or "index" (the
// createIndex first, then the data steps).
import { newContext, openPage } from "../setup.mjs";
import { ENGINE } from "../../shared/browsers.mjs";
import { test } from "node:test";

const CLOSES = Number(process.env.CLOSES ?? 40);
const VARIANT = process.env.VARIANT ?? "migrate";
// The closes are spread over this part of the uninterrupted upgrade's duration.
const [FROM, TO] = (process.env.SPREAD ?? "0,1.3").split(",").map(Number);

function prepareV1() {
  return new Promise((ok, fail) => {
    const del = indexedDB.deleteDatabase("raw");
    del.onsuccess = () => {
      const open = indexedDB.open("raw", 1);
      open.onupgradeneeded = () => {
        const db = open.result;
        const items = db.createObjectStore("items", { keyPath: "id" });
        items.createIndex("by_n", "n");
        db.createObjectStore("meta");
        for (let i = 0; i < 1500; i++) items.put({ id: i, n: i % 7, text: `item number ${i} with some words in it` });
      };
      open.onsuccess = () => { open.result.close(); ok(); };
      open.onerror = () => fail(String(open.error));
    };
    del.onerror = () => fail(String(del.error));
  });
}

function upgradeV2(variant) {
  window.upgradeDone = null;
  const started = performance.now();
  const open = indexedDB.open("raw", 2);
  open.onupgradeneeded = () => {
    const tx = open.transaction;
    const items = tx.objectStore("items");
    const meta = tx.objectStore("meta");
    const index = () => items.createIndex("by_words", "words");
    if (variant === "index") index();
    let after = null;
    const batch = () => {
      const range = after === null ? null : IDBKeyRange.lowerBound(after, true);
      const req = items.getAll(range, 500);
      req.onsuccess = () => {
        const rows = req.result;
        if (rows.length === 0) {
          if (variant !== "index") index();
          meta.put({ version: 2 }, "state");
          return;
        }
        for (const r of rows) items.put({ ...r, text: r.text.toUpperCase(), words: r.text.split(" ").length });
        after = rows[rows.length - 1].id;
        batch();
      };
    };
    batch();
  };
  open.onsuccess = () => { open.result.close(); window.upgradeDone = performance.now() - started; };
  open.onerror = () => { window.upgradeDone = `error ${open.error}`; };
}

function look() {
  return new Promise((ok) => {
    const open = indexedDB.open("raw");
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction(["items", "meta"]);
      const indexes = [...tx.objectStore("items").indexNames];
      const req = tx.objectStore("meta").get("state");
      req.onsuccess = () => { const r = { version: db.version, indexes, meta: req.result ?? null }; db.close(); ok(r); };
    };
    open.onerror = () => ok({ error: String(open.error) });
  });
}

/** After a phantom: can the index be read, and does the upgrade run again (its createIndex)? */
function probePhantom() {
  return new Promise((ok) => {
    const open = indexedDB.open("raw");
    open.onsuccess = () => {
      const db = open.result;
      const req = db.transaction("items").objectStore("items").index("by_words").count();
      req.onsuccess = () => { db.close(); retry(`count ${req.result}`); };
      req.onerror = () => { db.close(); retry(`count failed: ${req.error}`); };
    };
    const retry = (count) => {
      const again = indexedDB.open("raw", 2);
      let thrown = null;
      again.onupgradeneeded = () => {
        try { again.transaction.objectStore("items").createIndex("by_words", "words"); } catch (e) { thrown = `${e.name}: ${e.message}`; }
      };
      again.onsuccess = () => {
        const db = again.result;
        const r = { count, createIndexThrew: thrown, version: db.version, indexes: [...db.transaction("items").objectStore("items").indexNames] };
        db.close(); ok(r);
      };
      again.onerror = () => ok({ count, createIndexThrew: thrown, openError: String(again.error) });
    };
  });
}

test(`raw IndexedDB, ${ENGINE}: a tab closed mid-upgrade (${VARIANT})`, async () => {
  const context = await newContext();
  let page = await openPage(context);
  await page.evaluate(prepareV1);
  await page.evaluate(upgradeV2, VARIANT);
  await page.waitForFunction(() => window.upgradeDone !== null);
  const duration = await page.evaluate(() => window.upgradeDone);
  console.log(`uninterrupted upgrade: ${duration} ms; reads ${JSON.stringify(await page.evaluate(look))}`);
  const tally = { before: 0, after: 0, phantom: 0, other: 0 };
  for (let i = 0; i < CLOSES; i++) {
    await page.evaluate(prepareV1);
    await page.evaluate(upgradeV2, VARIANT);
    await new Promise((ok) => setTimeout(ok, Math.round((FROM + (i / CLOSES) * (TO - FROM)) * Number(duration))));
    await page.close();
    page = await openPage(context);
    const seen = await page.evaluate(look);
    const kind = seen.version === 1 && !seen.indexes.includes("by_words") && !seen.meta ? "before"
      : seen.version === 2 && seen.indexes.includes("by_words") && seen.meta ? "after"
      : seen.version === 1 && seen.indexes.includes("by_words") ? "phantom" : "other";
    tally[kind]++;
    if (kind === "phantom" || kind === "other") console.log(`close ${i}: ${kind} ${JSON.stringify(seen)}`);
    if (kind === "phantom") console.log(`  then: ${JSON.stringify(await page.evaluate(probePhantom))}`);
  }
  console.log(`raw closes (${ENGINE}, ${VARIANT}): ${CLOSES}: ${JSON.stringify(tally)}`);
  await context.close();
});
