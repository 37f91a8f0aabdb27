// The backup folder on the recovery page: a person chooses a folder (Chromium's picker, stubbed
// to hand out a folder of the origin private file system: a real directory handle), sees it
// "OK", takes a backup that lands there, and finds it listed for restore; then stops using it.
// Where the browser has no picker (deleted in Chromium; Firefox and WebKit have none), the page
// says it cannot write to a folder and offers the download instead.
import { test } from "node:test";
import assert from "node:assert/strict";
import { servedBrowser, ready, outcome } from "./harness.mjs";
import { ENGINE } from "../shared/browsers.mjs";

const shared = servedBrowser();

test("choose a backup folder, see it OK, back up into it, and restore from its list", { skip: ENGINE !== "chromium" && "only Chromium has a folder picker" }, async () => {
  const { page, context, errors, close } = await shared.browser.openPage(shared.server.url);
  await context.addInitScript(() => {
    window.showDirectoryPicker = async () => {
      const root = await navigator.storage.getDirectory();
      return root.getDirectoryHandle("Backups", { create: true });
    };
  });
  await page.reload();
  await ready(page);
  const folder = page.getByRole("region", { name: "Backup folder" });
  const state = folder.getByRole("status", { name: "Backup folder state" });
  await state.getByText(/^No folder chosen/).waitFor();
  await folder.getByRole("button", { name: "Choose folder…" }).click();
  await state.getByText("OK: backups are also written to folder “Backups”.").waitFor();
  assert.equal(await folder.getByRole("button", { name: "Stop using this folder" }).isVisible(), true);
  assert.equal(await folder.getByRole("button", { name: "Change folder…" }).isVisible(), true);

  await page.getByRole("region", { name: "Backups", exact: true }).getByRole("button", { name: "Create backup" }).click();
  const done = await outcome(page);
  assert.equal(done.role, "status", done.text);
  const table = folder.getByRole("table", { name: "Backups in the folder" });
  await table.waitFor();
  const rows = table.getByRole("row");
  assert.equal(await rows.count(), 2, "the header and the backup just taken");
  assert.match(await rows.nth(1).innerText(), /notes-demo-v5-\d{8}T\d{6}Z\.rewind[\s\S]*manual/);
  assert.match(await state.locator("xpath=..").innerText(), /Last written/);

  // At a phone's width nothing of the section leaves it (the file name wraps).
  await page.setViewportSize({ width: 390, height: 844 });
  const overflowing = await page.evaluate(() => {
    const section = document.querySelector("section[aria-labelledby=folder-heading]");
    const edge = section.getBoundingClientRect();
    return [...section.querySelectorAll("*")]
      .filter((el) => el.getClientRects().length && el.getBoundingClientRect().right > edge.right + 1)
      .map((el) => `${el.localName}: ${el.innerText?.slice(0, 40)}`);
  });
  assert.deepEqual(overflowing, []);
  await page.setViewportSize({ width: 1280, height: 800 });

  await table.getByRole("button", { name: "Restore" }).click();
  const dialog = page.getByRole("dialog", { name: "Restore from file" });
  await dialog.getByText(/verified \(SHA-256/).waitFor();
  assert.match(await dialog.innerText(), /Database\s+notes-demo/);
  await dialog.getByRole("button", { name: "Cancel" }).click();

  await folder.getByRole("button", { name: "Stop using this folder" }).click();
  await state.getByText(/^No folder chosen/).waitFor();
  assert.deepEqual(await errors(), []);
  await close();
});

test("without a folder picker the page says so and offers the download", async () => {
  const { page, context, errors, close } = await shared.browser.openPage(shared.server.url);
  if (context) {
    await context.addInitScript(() => { delete window.showDirectoryPicker; });
    await page.reload();
  }
  await ready(page);
  const folder = page.getByRole("region", { name: "Backup folder" });
  await folder.getByText("This browser cannot write to a folder; download backups instead.").waitFor();
  assert.equal(await folder.getByRole("button", { name: "Choose folder…" }).count(), 0);
  const download = folder.getByRole("button", { name: "Download the newest backup" });
  assert.equal(await download.isVisible(), true);
  assert.equal(await download.isEnabled(), true, "the demo database has backups");
  assert.deepEqual(await errors(), []);
  await close();
});

test("a folder the browser refuses: the page says \"folder permission denied\" and keeps nothing", { skip: ENGINE !== "chromium" && "only Chromium has a folder picker" }, async () => {
  const { page, context, errors, close } = await shared.browser.openPage(shared.server.url);
  await context.addInitScript(() => {
    // A real folder whose browser says no when asked (as a person refusing the prompt would).
    window.showDirectoryPicker = async () => {
      const real = await (await navigator.storage.getDirectory()).getDirectoryHandle("Denied", { create: true });
      return {
        kind: "directory",
        name: real.name,
        getFileHandle: (...a) => real.getFileHandle(...a),
        removeEntry: (...a) => real.removeEntry(...a),
        queryPermission: async () => "prompt",
        requestPermission: async () => "denied",
      };
    };
  });
  await page.reload();
  await ready(page);
  const folder = page.getByRole("region", { name: "Backup folder" });
  const state = folder.getByRole("status", { name: "Backup folder state" });
  await folder.getByRole("button", { name: "Choose folder…" }).click();
  const refused = await outcome(page);
  assert.equal(refused.role, "alert");
  assert.match(refused.text, /folder permission denied.*Nothing was changed/s);
  assert.match(await state.innerText(), /^No folder chosen/);
  const files = await page.evaluate(async () => {
    const names = [];
    for await (const [name] of (await (await navigator.storage.getDirectory()).getDirectoryHandle("Denied")).entries()) names.push(name);
    return names;
  });
  assert.deepEqual(files, [], "nothing written to the refused folder");
  assert.deepEqual(await errors(), []);
  await close();
});

test("a folder whose permission lapsed reads \"Needs permission\" until Grant access", { skip: ENGINE !== "chromium" && "only Chromium has a folder picker" }, async () => {
  const { page, context, errors, close } = await shared.browser.openPage(shared.server.url);
  await context.addInitScript(() => {
    // The browser's answer lapses when the test says so (as after a restart), and a request
    // (the person's click) grants it again.
    const proto = FileSystemHandle.prototype;
    const query = proto.queryPermission;
    proto.queryPermission = async function (d) { return localStorage.getItem("lapsed") ? "prompt" : query.call(this, d); };
    proto.requestPermission = async function () { localStorage.removeItem("lapsed"); return "granted"; };
    window.showDirectoryPicker = async () => (await navigator.storage.getDirectory()).getDirectoryHandle("Lapsing", { create: true });
  });
  await page.reload();
  await ready(page);
  const folder = page.getByRole("region", { name: "Backup folder" });
  const state = folder.getByRole("status", { name: "Backup folder state" });
  await folder.getByRole("button", { name: "Choose folder…" }).click();
  await state.getByText(/^OK: /).waitFor();
  await page.evaluate(() => localStorage.setItem("lapsed", "1"));
  await page.reload();
  await ready(page);
  await state.getByText("Needs permission: the browser must be allowed again to write to folder “Lapsing”; until then nothing is written there.").waitFor();
  assert.equal(await folder.getByRole("table", { name: "Backups in the folder" }).count(), 0, "nothing listed without permission");
  await folder.getByRole("button", { name: "Grant access" }).click();
  await state.getByText("OK: backups are also written to folder “Lapsing”.").waitFor();
  assert.deepEqual(await errors(), []);
  await close();
});
