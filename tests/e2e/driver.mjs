// What the end-to-end specs share: the WebDriver session on tauri-driver
// (http://127.0.0.1:4444, WebDriver classic), helpers that find elements by
// their data-testid (ui/TESTIDS.md), and the steps more than one spec takes
// (an upload with an explicit mapping, an approval with a comment).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { promisify } from "node:util";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { remote } from "webdriverio";

const here = path.dirname(fileURLToPath(import.meta.url));

export const SECOND = 1000;
export const SCREENSHOTS =
  process.env.TABLERO_SCREENSHOTS ?? path.resolve(here, "../../docs/screenshots");

/** An environment variable, else `fallback`; fails when neither is set. */
export const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`set ${name} (see the top of the spec, and README.md)`);
  return v;
};

// The sample's header and what each column means.
export const SAMPLE_MAPPING = {
  InvoiceNo: "invoice_id",
  StockCode: "product_id",
  Description: "description",
  Quantity: "quantity",
  InvoiceDate: "invoice_date",
  UnitPrice: "unit_price",
  CustomerID: "customer_id",
  Country: "country",
};

/** @type {WebdriverIO.Browser} */
export let browser;

/** Starts the app under tauri-driver. */
export async function connect() {
  browser = await remote({
    hostname: "127.0.0.1",
    port: 4444,
    logLevel: "warn",
    connectionRetryTimeout: 120 * SECOND,
    waitforTimeout: 30 * SECOND,
    capabilities: {
      "tauri:options": { application: env("TABLERO_APP") },
      "wdio:enforceWebDriverClassic": true,
      browserName: "wry",
    },
  });
  return browser;
}

export async function disconnect() {
  await browser?.deleteSession();
}

// ── Helpers ──────────────────────────────────────────────────────────────────

export const sel = (id, attrs = {}) =>
  `[data-testid="${id}"]` +
  Object.entries(attrs)
    .map(([k, v]) => `[data-${k}="${String(v).replace(/"/g, '\\"')}"]`)
    .join("");
export const $t = (id, attrs) => browser.$(sel(id, attrs));
export const $$t = (id, attrs) => browser.$$(sel(id, attrs));

export async function click(id, attrs, timeout = 30 * SECOND) {
  const el = await $t(id, attrs);
  await el.waitForClickable({ timeout });
  await el.click();
  return el;
}

/** Types into an input so that Svelte's `bind:value` sees it. */
export async function typeInto(id, value, attrs) {
  const el = await $t(id, attrs);
  await el.waitForDisplayed({ timeout: 30 * SECOND });
  await el.setValue(String(value));
  if ((await el.getValue()) !== String(value)) {
    await browser.execute(
      (node, v) => {
        node.value = v;
        node.dispatchEvent(new Event("input", { bubbles: true }));
      },
      el,
      String(value),
    );
  }
  assert.equal(await el.getValue(), String(value), `typing into ${id}`);
  return el;
}

/**
 * Chooses an option of a select by value and fires `change`, as picking it
 * would (WebKitWebDriver refuses to click <option> elements).
 */
export async function choose(el, value) {
  await el.waitForEnabled({ timeout: 30 * SECOND });
  const found = await browser.execute(
    (node, v) => {
      if (![...node.options].some((o) => o.value === v)) return false;
      node.value = v;
      node.dispatchEvent(new Event("change", { bubbles: true }));
      return true;
    },
    el,
    value,
  );
  assert.ok(found, `no option ${value} in ${await el.getAttribute("data-testid")}`);
  assert.equal(await el.getValue(), value);
}

export async function goTo(view) {
  await click(`nav-${view}`);
  await (await $t(`view-${view}`)).waitForExist({ timeout: 30 * SECOND });
}

export async function screenshot(view) {
  await mkdir(SCREENSHOTS, { recursive: true });
  await browser.pause(500); // let charts and fonts settle
  await capture(path.join(SCREENSHOTS, `${view}.png`));
}

/**
 * Saves the app's window as the X server shows it (ImageMagick's `import`),
 * not through WebDriver's screenshot command: under Xvfb WebKit's page
 * snapshot has hung and crashed the web process mid-test.
 */
async function capture(file) {
  const rect = await browser.getWindowRect().catch(() => null);
  const crop = rect ? ["-crop", `${rect.width}x${rect.height}+${Math.max(rect.x, 0)}+${Math.max(rect.y, 0)}`, "+repage"] : [];
  await promisify(execFile)("import", ["-window", "root", ...crop, file], { timeout: 30 * SECOND });
}

export async function currentUser() {
  const el = await $t("header-user-name");
  await el.waitForDisplayed({ timeout: 60 * SECOND });
  return (await el.getText()).trim();
}

export async function switchUser(name) {
  if ((await currentUser()) === name) return;
  await choose(await $t("user-switcher"), name);
  await until(async () => (await currentUser()) === name, 30 * SECOND, `switch to ${name}`);
}

/** Text of the visible inline errors (and the offline badge), for failure messages. */
export async function visibleErrors() {
  const out = [];
  for (const el of await browser.$$('[role="alert"]')) {
    if (await el.isDisplayed())
      out.push(`${await el.getAttribute("data-testid")}: ${await el.getText()}`);
  }
  const offline = await $t("offline");
  if ((await offline.isExisting()) && (await offline.isDisplayed()))
    out.push(`offline: ${await offline.getAttribute("title")}`);
  return out.join("\n");
}

/**
 * Waits until `condition` holds; on timeout fails with `what` and the inline
 * errors on screen at that moment (Rust's messages say what went wrong).
 */
export async function until(condition, timeout, what, interval = 500) {
  try {
    await browser.waitUntil(condition, { timeout, interval });
  } catch (e) {
    const errors = await visibleErrors().catch(() => "");
    throw new Error(`${what} (waited ${timeout / SECOND} s)${errors ? `\n${errors}` : ""}`, {
      cause: e,
    });
  }
}

/** Runs a test body; on failure saves a screenshot of the window beside the others. */
export function withScreenshot(name, body) {
  return async () => {
    try {
      await body();
    } catch (e) {
      await mkdir(SCREENSHOTS, { recursive: true }).catch(() => {});
      await capture(path.join(SCREENSHOTS, `failed-${name}.png`)).catch(() => {});
      throw e;
    }
  };
}

// ── Steps ────────────────────────────────────────────────────────────────────

/**
 * Uploads the sample CSV at `file` to the raw bucket as `key`, through a
 * typed path and an explicit mapping, and waits for it to be listed (the
 * list filtered down to `key`: only visible rows exist, virtual scrolling).
 */
export async function uploadSample(file, key) {
  await goTo("data");
  await typeInto("upload-path", file);
  await click("upload-inspect");
  await (await $t("upload-dialog")).waitForDisplayed();
  await until(async () => (await $$t("mapping-row")).length > 0, 60 * SECOND, "no mapping rows");
  for (const row of await $$t("mapping-row")) {
    const column = (await (await row.$(sel("mapping-column"))).getText()).trim();
    const canonical = SAMPLE_MAPPING[column] ?? "ignore";
    await choose(await row.$(sel("mapping-select")), canonical);
  }
  await typeInto("upload-key", key);
  await click("upload-confirm");
  await until(
    async () => (await $t("upload-done").isDisplayed()) || (await $t("upload-error").isDisplayed()),
    120 * SECOND,
    "the upload did not finish",
  );
  assert.equal(await $t("upload-error").isDisplayed(), false, await visibleErrors());
  assert.match(await $t("upload-done").getText(), new RegExp(key.replace(/[.]/g, "\\.")));
  await click("upload-close");
  await typeInto("data-prefix", key);
  await (await $t("object-row", { key })).waitForExist({ timeout: 30 * SECOND });
}

/**
 * Approves `version` (pending) as the current user, with `comment`, in the
 * Models view, and waits for its row to say Approved.
 */
export async function approve(version, comment) {
  await goTo("models");
  const modelRow = await $t("model-row", { version });
  await modelRow.waitForExist({ timeout: 30 * SECOND });
  assert.equal(await modelRow.getAttribute("data-status"), "PendingManualApproval");
  await (await modelRow.$(sel("model-open"))).click();
  await typeInto("approve-comment", comment);
  const accept = await $t("accept-leakage");
  if (await accept.isExisting()) await accept.click();
  await until(
    async () => await $t("approve-button").isEnabled(),
    30 * SECOND,
    `approve-button stays disabled for ${await currentUser()}`,
  );
  await click("approve-button");
  await until(
    async () => (await $t("model-row", { version }).getAttribute("data-status")) === "Approved",
    30 * SECOND,
    `v${version} was not approved`,
  );
}
