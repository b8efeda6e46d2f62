// End-to-end run of the Tablero desktop app on the AWS backend (against
// moto's server), driven through tauri-driver (WebDriver classic) on
// http://127.0.0.1:4444: upload → check the AWS settings → approve →
// promote to the ECS service → the Monitor view on CloudWatch.
//
// The app starts on a workspace whose backend is aws ([backend] kind = "aws"
// and an [aws] table pointing at moto), acting as a user with the ml_lead
// role who did not register the version it approves.
//
// Environment:
//   TABLERO_APP           the built app binary, with the AWS backend (required)
//   TABLERO_SAMPLE        absolute path of assets/sample/online_retail_sample.csv
//   TABLERO_AWS_VERSION   a model version of group `default`, registered by
//                         someone else and pending manual approval
//   TABLERO_SCREENSHOTS   where to write aws-models.png (default: docs/screenshots)
//
// Run: tauri-driver & ; npm run test:aws

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import {
  $$t,
  $t,
  approve,
  click,
  connect,
  disconnect,
  env,
  goTo,
  screenshot,
  SECOND,
  typeInto,
  until,
  uploadSample,
  visibleErrors,
  withScreenshot,
} from "./driver.mjs";

before(connect);
after(disconnect);

/** The raw key the upload test stored, cleaned on the ETL Lambda below. */
let uploadedKey = null;

/** Waits for the newest job of `kind` on `input` to end; its row. */
async function endedJob(kind, input, timeout) {
  const statuses = [];
  let row = null;
  await until(
    async () => {
      const rows = await $$t("job-row", { kind, input });
      if (rows.length === 0) return false;
      row = rows[0];
      const status = await row.getAttribute("data-status");
      if (statuses.at(-1) !== status) statuses.push(status);
      return ["succeeded", "failed", "cancelled"].includes(status);
    },
    timeout,
    `the ${kind} job on ${input} did not end (${statuses.join(" → ")})`,
    250,
  );
  return { row, statuses };
}

test(
  "the header tags the AWS backend, which is reachable",
  withScreenshot("aws-header", async () => {
    const tag = await $t("backend-kind");
    await tag.waitForDisplayed({ timeout: 60 * SECOND });
    assert.equal((await tag.getText()).trim(), "AWS");
    assert.equal(await $t("offline").isExisting(), false, await visibleErrors());
  }),
);

test(
  "an upload is listed in the raw bucket",
  withScreenshot("aws-upload", async () => {
    const key = `e2e/aws-${Date.now()}.csv`;
    uploadedKey = key;
    await uploadSample(env("TABLERO_SAMPLE"), key);
    assert.equal(await $t("bucket-raw").getAttribute("aria-selected"), "true");
    // The listing may be re-rendering (a refresh after the upload): wait for it.
    await (await $t("object-row", { key })).waitForExist({
      timeout: 30 * SECOND,
      timeoutMsg: `${key} is not listed in raw`,
    });
  }),
);

test(
  "Settings checks the AWS settings: the caller is known",
  withScreenshot("aws-settings", async () => {
    await goTo("settings");
    const text = await $t("aws-settings");
    await text.waitForDisplayed({ timeout: 30 * SECOND });
    assert.ok((await text.getValue()).trim().length > 0, "the AWS settings are empty");

    await click("aws-check");
    await until(
      async () => (await $$t("aws-check-result")).length > 0,
      60 * SECOND,
      "Check listed no result",
    );
    const rows = [];
    for (const row of await $$t("aws-check-result")) {
      rows.push({
        call: await row.getAttribute("data-call"),
        ok: (await row.getAttribute("data-ok")) === "true",
        text: (await row.getText()).trim(),
      });
    }
    const listed = rows.map((r) => r.text).join("\n");
    const sts = rows.find((r) => r.call?.startsWith("sts:"));
    assert.ok(sts, `no STS check among:\n${listed}`);
    assert.ok(sts.ok, `the STS check failed:\n${listed}`);
  }),
);

test(
  "the pending version is approved with a comment",
  withScreenshot("aws-approve", async () => {
    const version = Number(env("TABLERO_AWS_VERSION"));
    assert.ok(Number.isInteger(version), "TABLERO_AWS_VERSION is not a version number");
    await approve(version, "Approved by the end-to-end run on AWS: holdout metrics reviewed.");
    assert.equal(await $t("offline").isExisting(), false, await visibleErrors());
    await screenshot("aws-models");
  }),
);

test(
  "the approved version is promoted to the ECS service and the Monitor view reads CloudWatch",
  withScreenshot("aws-deploy", async () => {
    const version = Number(env("TABLERO_AWS_VERSION"));
    await goTo("deploy");
    const promote = await $t("promote-button", { version });
    await promote.waitForEnabled({ timeout: 60 * SECOND });
    await promote.click();
    await (await $t("promotion-diff")).waitForDisplayed();
    await (await $t("promote-confirm")).waitForEnabled({ timeout: 60 * SECOND });
    await click("promote-confirm");
    await (await $t("promotion-diff")).waitForExist({ reverse: true, timeout: 60 * SECOND });
    // moto never rolls an ECS deployment out: the panel says the rollout
    // is under way once the service runs the new revision.
    const progress = await $t("rollout-progress");
    await until(
      async () =>
        (await progress.isExisting()) &&
        ["in_progress", "completed"].includes(await progress.getAttribute("data-phase")),
      60 * SECOND,
      "no rollout progress shown",
    );
    assert.match(await progress.getText(), /serve/, "the rollout names the task definition revision");
    await until(
      async () => (await $t("deployed-version").getText()).includes(`v${version}`),
      60 * SECOND,
      `the service does not run v${version}`,
    );
    const entry = await $t("history-entry");
    await entry.waitForExist({ timeout: 30 * SECOND });
    assert.match(await entry.getText(), new RegExp(`v${version}`));
    await (await $t("endpoint-tasks")).waitForExist({ timeout: 30 * SECOND });
    await screenshot("aws-deploy");

    // Monitor: the alarms as CloudWatch holds them, no error.
    await goTo("monitor");
    await (await $t("alarms-table")).waitForDisplayed({ timeout: 60 * SECOND });
    const rows = await $$t("alarm-row");
    assert.equal(rows.length, 3, "one row per alarm rule");
    assert.equal(await $t("offline").isExisting(), false, await visibleErrors());
    assert.equal(await visibleErrors(), "", "no error in the Monitor view");
  }),
);

test(
  "a clean job started from the Pipeline view runs on the ETL Lambda, with progress and its report",
  withScreenshot("aws-lambda", async () => {
    assert.ok(uploadedKey, "the upload test stored no key");
    await goTo("pipeline");
    await typeInto("clean-key", uploadedKey);
    await click("clean-start");
    const { row, statuses } = await endedJob("clean", uploadedKey, 300 * SECOND);
    assert.equal(await row.getAttribute("data-status"), "succeeded", await row.getText());
    assert.ok(
      statuses.some((s) => s === "queued" || s === "running"),
      `the job was never shown under way: ${statuses.join(" → ")}`,
    );
    // The job id is Lambda's request id (a UUID).
    assert.match(await row.getAttribute("data-id"), /^[0-9a-f-]{36}$/);
    await (await row.$('[data-testid="job-open"]')).click();
    await (await $t("clean-rules")).waitForDisplayed({ timeout: 30 * SECOND });
    assert.equal(await visibleErrors(), "", "no error in the Pipeline view");
    await screenshot("aws-pipeline");
  }),
);

test(
  "a training job runs on SageMaker, completes, and says in words that it wrote no model",
  withScreenshot("aws-training", async () => {
    const features = env("TABLERO_AWS_FEATURES");
    await goTo("pipeline");
    await (await $t("train-sagemaker")).waitForDisplayed({ timeout: 30 * SECOND });
    await typeInto("train-key", features);
    await typeInto("train-folds", 3);
    await click("train-start");
    const { row } = await endedJob("train", features, 120 * SECOND);
    // moto completes training jobs at once and writes no model artifact.
    assert.equal(await row.getAttribute("data-status"), "failed", await row.getText());
    await (await row.$('[data-testid="job-open"]')).click();
    const error = await $t("job-error");
    await error.waitForDisplayed({ timeout: 30 * SECOND });
    assert.match(
      await error.getText(),
      /SageMaker reports training job tablero-default-\S+ Completed, but it wrote no model artifact at s3:\/\/.+; nothing was registered/,
    );
  }),
);
