import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { beforeEach, describe, expect, it } from "vitest";

import { app } from "../lib/app.svelte";
import { session, settingsView } from "../test/fixtures";
import { callsOf, mockIpc } from "../test/ipc";
import SettingsView from "./SettingsView.svelte";

beforeEach(() => {
  app.session = null;
});

describe("SettingsView", () => {
  it("shows the workspace, users and the policy flags Rust sends at the top level", async () => {
    mockIpc({ settings: () => settingsView({ four_eyes: true, allow_as: false }) });
    render(SettingsView);
    expect((await screen.findByTestId("settings-workspace")).textContent).toBe("/ws");
    expect(screen.getByTestId("settings-backend").textContent).toBe("local");
    expect(screen.getAllByTestId("settings-user-row").map((r) => r.dataset.user)).toEqual([
      "ana",
      "lead",
      "al",
    ]);
    expect(screen.getByTestId("policy-four-eyes").textContent).toContain("on");
    expect(screen.getByTestId("policy-allow-as").textContent).toContain("not allowed");
  });

  it("shows Rust's error inline", async () => {
    mockIpc({
      settings: () => {
        throw { kind: "not_initialised", message: "no workspace at /tmp/x: run tablero init" };
      },
    });
    render(SettingsView);
    expect((await screen.findByTestId("error-settings")).textContent).toContain("tablero init");
  });

  it("opens another workspace: the session changes and every view reloads", async () => {
    mockIpc({
      settings: () => settingsView(),
      workspace_open: ({ path }) => session({ workspace: String(path).trim() }),
    });
    render(SettingsView);
    const open = (await screen.findByTestId("workspace-open")) as HTMLButtonElement;
    expect(open.disabled).toBe(true);
    const epoch = app.sessionEpoch;
    await fireEvent.input(screen.getByTestId("workspace-path"), {
      target: { value: " /data/shop-ws " },
    });
    expect(open.disabled).toBe(false);
    await fireEvent.click(open);
    await waitFor(() => expect(app.sessionEpoch).toBe(epoch + 1));
    expect(callsOf("workspace_open")).toEqual([{ path: " /data/shop-ws " }]);
    expect(app.session?.workspace).toBe("/data/shop-ws");
    expect(screen.queryByTestId("error-workspace-open")).toBeNull();
  });

  it("shows why a folder cannot be opened, and keeps the workspace", async () => {
    const refusal =
      "/home/ana/photos is not a Tablero workspace (it has no tablero.toml) and is not empty; choose a workspace folder, or an empty folder to create one in";
    mockIpc({
      settings: () => settingsView(),
      workspace_open: () => {
        throw { kind: "refused", message: refusal };
      },
    });
    render(SettingsView);
    const epoch = app.sessionEpoch;
    await fireEvent.input(await screen.findByTestId("workspace-path"), {
      target: { value: "/home/ana/photos" },
    });
    await fireEvent.click(screen.getByTestId("workspace-open"));
    expect((await screen.findByTestId("error-workspace-open")).textContent).toBe(refusal);
    expect(app.sessionEpoch).toBe(epoch);
  });
});

const AWS_TOML = `[aws]
region = "eu-west-1"

[aws.buckets]
raw = "acme-raw"
`;

describe("SettingsView: the AWS backend", () => {
  it("prefills the AWS settings and lists each check, ok or failed", async () => {
    mockIpc({
      settings: () => settingsView(),
      aws_settings: () => AWS_TOML,
      aws_check: () => [
        {
          call: "sts:GetCallerIdentity",
          ok: true,
          message: "tablero-ml-lead/ana (arn:aws:sts::123456789012:assumed-role/x); roles: ml_lead",
        },
        { call: "s3:ListBucket acme-raw", ok: false, message: "permission denied: s3:ListBucket" },
      ],
    });
    render(SettingsView);
    const text = (await screen.findByTestId("aws-settings")) as HTMLTextAreaElement;
    expect(text.value).toBe(AWS_TOML);
    expect(screen.getByLabelText("AWS settings")).toBe(text);
    expect(screen.queryAllByTestId("aws-check-result")).toEqual([]);

    await fireEvent.click(screen.getByTestId("aws-check"));
    const rows = await screen.findAllByTestId("aws-check-result");
    expect(rows.map((r) => [r.dataset.ok, r.dataset.call])).toEqual([
      ["true", "sts:GetCallerIdentity"],
      ["false", "s3:ListBucket acme-raw"],
    ]);
    expect(rows[0]?.textContent).toContain("ok");
    expect(rows[0]?.textContent).toContain("roles: ml_lead");
    expect(rows[1]?.textContent).toContain("failed");
    expect(rows[1]?.textContent).toContain("permission denied: s3:ListBucket");
    expect(callsOf("aws_check")).toEqual([{ text: AWS_TOML }]);
    expect(callsOf("aws_save")).toEqual([]);
  });

  it("disables the buttons while a check runs, and shows a refused check inline", async () => {
    let refuse: (e: unknown) => void = () => {};
    mockIpc({
      settings: () => settingsView(),
      aws_settings: () => AWS_TOML,
      aws_check: () =>
        new Promise((_, reject) => {
          refuse = reject;
        }),
    });
    render(SettingsView);
    const check = (await screen.findByTestId("aws-check")) as HTMLButtonElement;
    await fireEvent.click(check);
    await waitFor(() => expect(check.disabled).toBe(true));
    expect((screen.getByTestId("aws-save") as HTMLButtonElement).disabled).toBe(true);
    refuse({ kind: "invalid_input", message: "the Settings form: missing field `region`" });
    expect((await screen.findByTestId("error-aws-check")).textContent).toContain("`region`");
    expect(check.disabled).toBe(false);
    expect(screen.queryAllByTestId("aws-check-result")).toEqual([]);
  });

  it("saves the text as edited and reopens the workspace on AWS", async () => {
    const edited = AWS_TOML.replace("eu-west-1", "us-east-1");
    mockIpc({
      settings: () => settingsView(),
      aws_settings: () => AWS_TOML,
      aws_save: () => session({ workspace: "/ws", backend: "aws" }),
    });
    app.session = session({ workspace: "/ws" });
    render(SettingsView);
    await fireEvent.input(await screen.findByTestId("aws-settings"), {
      target: { value: edited },
    });
    const epoch = app.sessionEpoch;
    await fireEvent.click(screen.getByTestId("aws-save"));
    await waitFor(() => expect(app.sessionEpoch).toBe(epoch + 1));
    expect(callsOf("aws_save")).toEqual([{ text: edited }]);
    expect(app.session?.backend).toBe("aws");
    expect(screen.getByTestId("settings-backend").textContent).toBe("aws");
  });

  it("shows why the save was refused, and keeps the backend", async () => {
    mockIpc({
      settings: () => settingsView(),
      aws_settings: () => AWS_TOML,
      aws_save: () => {
        throw { kind: "invalid_input", message: "the Settings form: line 2: expected `=`" };
      },
    });
    app.session = session({ workspace: "/ws" });
    render(SettingsView);
    const epoch = app.sessionEpoch;
    await fireEvent.click(await screen.findByTestId("aws-save"));
    expect((await screen.findByTestId("error-aws-save")).textContent).toContain("line 2");
    expect(app.sessionEpoch).toBe(epoch);
    expect(app.session?.backend).toBe("local");
  });

  it("offers the local backend only on AWS, and switches to it", async () => {
    mockIpc({
      settings: () => settingsView({ backend: "aws" }),
      aws_settings: () => AWS_TOML,
      backend_select: ({ kind }) => session({ workspace: "/ws", backend: kind as "local" }),
    });
    app.session = session({ workspace: "/ws", backend: "aws" });
    render(SettingsView);
    const local = await screen.findByTestId("backend-local");
    expect(local.textContent).toBe("Use local backend");
    const epoch = app.sessionEpoch;
    await fireEvent.click(local);
    await waitFor(() => expect(app.sessionEpoch).toBe(epoch + 1));
    expect(callsOf("backend_select")).toEqual([{ kind: "local" }]);
    expect(app.session?.backend).toBe("local");
    expect(screen.queryByTestId("backend-local")).toBeNull();
  });

  it("says so in place of the form when this build has no AWS backend", async () => {
    const message =
      "this build of Tablero has no AWS backend: use a release package, or build with `cargo build --release -p tablero-desktop --features aws`";
    mockIpc({
      settings: () => settingsView(),
      aws_settings: () => {
        throw { kind: "unsupported", message };
      },
    });
    render(SettingsView);
    expect((await screen.findByTestId("aws-unsupported")).textContent).toBe(message);
    expect(screen.queryByTestId("aws-settings")).toBeNull();
    expect(screen.queryByTestId("aws-check")).toBeNull();
    expect(screen.queryByTestId("aws-save")).toBeNull();
    expect(screen.queryByRole("alert")).toBeNull();
  });
});
