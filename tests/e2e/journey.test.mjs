// End-to-end journey of the Tablero desktop app, driven through
// tauri-driver (WebDriver classic) on http://127.0.0.1:4444.
//
// Environment:
//   TABLERO_APP            the built app binary (required)
//   TABLERO_SAMPLE         absolute path of assets/sample/online_retail_sample.csv
//   TABLERO_BAD_CSV        a CSV the upload must refuse
//   TABLERO_SECOND_USER    a user with ml_lead + ops (the workspace has allow_as on)
//   TABLERO_ANALYST        a user with the analyst role only
//   TABLERO_API_KEY        an API key of the workspace's endpoint
//   TABLERO_RECORDS_JSON   a file holding {"records": [...]} for POST /v1/predict
//   TABLERO_SCREENSHOTS    where to write <view>.png (default: docs/screenshots)
//   TABLERO_MONITOR_TIMEOUT_MS  how long the Monitor may take to show traffic (default 90000)
//   TABLERO_OTHER_WORKSPACE  a missing folder Settings opens a new workspace in
//   TABLERO_WORKSPACE      the workspace the app started on (reopened at the end)
//
// Run: tauri-driver & ; npm test

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";

import {
  $$t,
  $t,
  approve,
  browser,
  choose,
  click,
  connect,
  currentUser,
  disconnect,
  env,
  goTo,
  screenshot,
  SECOND,
  sel,
  switchUser,
  typeInto,
  until,
  uploadSample,
  withScreenshot,
} from "./driver.mjs";

const MONITOR_TIMEOUT = Number(process.env.TABLERO_MONITOR_TIMEOUT_MS ?? 90_000);

/** The user the app started as (all roles, per `tablero init`). */
let firstUser;
/** The version the journey trains, approves and promotes. */
let trainedVersion = null;

// ── Helpers ──────────────────────────────────────────────────────────────────

/**
 * Waits for the newest job of `kind` on `inputKey` to end; returns its row's
 * output key. Fails with the job's error when it did not succeed.
 */
async function waitForJob(kind, inputKey, timeout) {
  let status = null;
  let row = null;
  await until(
    async () => {
      const rows = await $$t("job-row", { kind, input: inputKey });
      if (rows.length === 0) return false;
      row = rows[0]; // newest first
      status = await row.getAttribute("data-status");
      return ["succeeded", "failed", "cancelled"].includes(status);
    },
    timeout,
    `the ${kind} job on ${inputKey} did not end (last status ${status})`,
    SECOND,
  );
  assert.equal(status, "succeeded", `${kind} job on ${inputKey}: ${await row.getText()}`);
  const output = await row.getAttribute("data-output");
  assert.ok(output, `${kind} job on ${inputKey} has no output key`);
  return { row, output };
}

// ── Session ──────────────────────────────────────────────────────────────────

before(async () => {
  await connect();
  firstUser = await currentUser();
});

after(disconnect);

// ── Tests ────────────────────────────────────────────────────────────────────

test(
  "a refused upload shows Rust's message in the dialog",
  withScreenshot("refused-upload", async () => {
    // An analyst may upload: the refusal is about the file, not the role.
    await switchUser(process.env.TABLERO_ANALYST ?? firstUser);
    await goTo("data");
    await typeInto("upload-path", env("TABLERO_BAD_CSV"));
    await click("upload-inspect");
    await (await $t("upload-dialog")).waitForDisplayed();

    // Either inspecting already refuses the file, or the upload does.
    const error = await $t("upload-error");
    const confirm = await $t("upload-confirm");
    await until(
      async () => (await error.isDisplayed()) || (await confirm.isEnabled()),
      60 * SECOND,
      "the upload dialog neither inspected nor refused the file",
    );
    if (!(await error.isDisplayed())) {
      await confirm.click();
      await error.waitForDisplayed({ timeout: 120 * SECOND });
    }
    const message = (await error.getText()).trim();
    assert.ok(message.length > 0, "upload-error is empty");
    assert.equal(await (await $t("upload-done")).isExisting(), false);
    await click("upload-close");
    await (await $t("upload-dialog")).waitForExist({ reverse: true });
  }),
);

test(
  "journey: upload → clean → features → train → approve → deploy → monitor",
  withScreenshot("journey", async () => {
    const secondUser = env("TABLERO_SECOND_USER");
    const key = `e2e/journey-${Date.now()}.csv`;
    await switchUser(firstUser);

    // Data: upload the sample through a typed path, with an explicit mapping.
    await uploadSample(env("TABLERO_SAMPLE"), key);
    await screenshot("data");

    // Pipeline: clean → features → train (3 folds).
    await goTo("pipeline");
    await typeInto("clean-key", key);
    await choose(await $t("clean-preset"), "standard");
    await click("clean-start");
    const clean = await waitForJob("clean", key, 300 * SECOND);

    await typeInto("features-key", clean.output);
    await click("features-start");
    const features = await waitForJob("features", clean.output, 300 * SECOND);

    await typeInto("train-key", features.output);
    await typeInto("train-folds", 3);
    await click("train-start");
    const trained = await waitForJob("train", features.output, 600 * SECOND);
    const match = /\/v(\d+)\//.exec(trained.output);
    assert.ok(match, `unexpected artifact key ${trained.output}`);
    trainedVersion = Number(match[1]);
    await (await trained.row.$(sel("job-open"))).click();
    await (await $t("leaderboard")).waitForDisplayed({ timeout: 30 * SECOND });
    await screenshot("pipeline");

    // Models: a second user (ml_lead + ops) approves it, with a comment.
    await switchUser(secondUser);
    await approve(trainedVersion, "Approved by the end-to-end journey: holdout metrics reviewed.");
    await screenshot("models");

    // Deploy: start the endpoint, promote through the diff.
    await goTo("deploy");
    const state = await $t("endpoint-state");
    await until(
      async () => ["running", "stopped"].includes(await state.getText()),
      30 * SECOND,
      "the endpoint state never loaded",
    );
    if ((await state.getText()) !== "running") await click("endpoint-start");
    await until(
      async () => (await state.getText()) === "running",
      60 * SECOND,
      "the endpoint did not start",
    );
    const promote = await $t("promote-button", { version: trainedVersion });
    await promote.waitForEnabled({ timeout: 30 * SECOND });
    await promote.click();
    await (await $t("promotion-diff")).waitForDisplayed();
    await (await $t("promote-confirm")).waitForEnabled({ timeout: 60 * SECOND });
    await click("promote-confirm");
    await (await $t("promotion-diff")).waitForExist({ reverse: true, timeout: 60 * SECOND });
    await until(
      async () => (await $t("serving-version").getText()).includes(`v${trainedVersion}`),
      60 * SECOND,
      `the endpoint does not serve v${trainedVersion}`,
    );
    const url = await state.getAttribute("data-url");
    assert.match(url ?? "", /^https?:\/\//, "endpoint-state has no data-url");
    await screenshot("deploy");

    // Traffic, sent by the test itself.
    const body = await readFile(env("TABLERO_RECORDS_JSON"), "utf8");
    JSON.parse(body); // fail early on a broken fixture
    let ok = 0;
    let lastError = "";
    for (let i = 0; i < 25; i++) {
      const res = await fetch(new URL("/v1/predict", url), {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-api-key": env("TABLERO_API_KEY"),
        },
        body,
      });
      if (res.ok) ok++;
      else lastError = `${res.status} ${await res.text()}`;
    }
    assert.ok(ok > 0, `no prediction succeeded: ${lastError}`);

    // Monitor: the traffic shows up (metrics are written per window).
    await goTo("monitor");
    const requests = await $t("monitor-requests");
    await until(
      async () => {
        if (Number(await requests.getAttribute("data-value")) > 0) return true;
        const refresh = await $t("monitor-refresh");
        if (await refresh.isEnabled()) await refresh.click();
        return false;
      },
      MONITOR_TIMEOUT,
      "Monitor still shows no requests",
      5 * SECOND,
    );
    for (const chart of ["requests", "latency", "score", "drift"]) {
      assert.ok(
        await (await $t(`chart-${chart}`)).$("svg").isExisting(),
        `chart-${chart} has no SVG`,
      );
    }
    await screenshot("monitor");

    await goTo("settings");
    await (await $t("settings-workspace")).waitForDisplayed();
    await screenshot("settings");
  }),
);

test(
  "an analyst cannot approve, and sees why",
  withScreenshot("analyst", async () => {
    const analyst = env("TABLERO_ANALYST");
    await switchUser(analyst);
    await goTo("models");
    await until(
      async () => (await $$t("model-row")).length > 0,
      30 * SECOND,
      "no model version to look at (run the journey first)",
    );
    const row =
      trainedVersion != null
        ? await $t("model-row", { version: trainedVersion })
        : (await $$t("model-row"))[0];
    await (await row.$(sel("model-open"))).click();

    const reason = await $t("approve-reason");
    await reason.waitForDisplayed({ timeout: 30 * SECOND });
    assert.ok((await reason.getText()).trim().length > 0, "approve-reason is empty");
    await typeInto("approve-comment", "I would like to approve this");
    assert.equal(
      await $t("approve-button").isEnabled(),
      false,
      "approve-button is enabled for an analyst",
    );
  }),
);

test(
  "Settings opens another workspace and the first one again; a deletion is undone",
  withScreenshot("workspaces", async () => {
    const other = env("TABLERO_OTHER_WORKSPACE");
    const first = env("TABLERO_WORKSPACE");
    const textOf = async (id) =>
      browser.execute((s) => document.querySelector(s)?.textContent?.trim() ?? "", sel(id));
    const openFolder = async (folder) => {
      await goTo("settings");
      await typeInto("workspace-path", folder);
      await click("workspace-open");
      await until(
        async () => (await textOf("header-workspace")) === folder,
        30 * SECOND,
        `the header does not show ${folder}`,
      );
    };

    // A missing folder gets a new, empty workspace; the Data view shows it.
    await openFolder(other);
    assert.equal(await textOf("settings-workspace"), other);
    await goTo("data");
    await until(
      async () => /^0\s+objects/.test(await textOf("object-count")),
      30 * SECOND,
      "the new workspace's raw bucket is not empty",
    );

    // A folder of other files is refused in words, and nothing changes.
    await goTo("settings");
    await typeInto("workspace-path", path.dirname(env("TABLERO_SAMPLE")));
    await click("workspace-open");
    const refusal = await $t("error-workspace-open");
    await refusal.waitForDisplayed({ timeout: 30 * SECOND });
    assert.match(await refusal.getText(), /is not a Tablero workspace/);
    assert.equal(await textOf("header-workspace"), other);

    // Back to the first workspace: its uploads are there again.
    await openFolder(first);
    await goTo("data");
    await until(
      async () => (await $$t("object-row")).length > 0,
      30 * SECOND,
      "the first workspace's uploads are not listed again",
    );

    // Delete an upload, then undo it from the notice.
    const row = (await $$t("object-row"))[0];
    const key = await row.getAttribute("data-key");
    await (await row.$(sel("delete-button"))).click();
    await click("delete-confirm");
    await until(
      async () => !(await (await $t("object-row", { key })).isExisting()),
      30 * SECOND,
      `${key} is still listed after its deletion`,
    );
    await click("undo-delete");
    await until(
      async () => (await $t("object-row", { key })).isExisting(),
      30 * SECOND,
      `${key} did not come back from the trash`,
    );
  }),
);
