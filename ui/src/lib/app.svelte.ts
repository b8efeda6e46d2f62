// App-wide state: the current view, the session (who acts, on which
// backend), and hand-offs between views (a file dropped on the window, a raw
// key to clean, a model version to open).

import * as api from "./api";
import type { BackendKind, Session } from "./types";

export const VIEWS = ["data", "pipeline", "models", "deploy", "monitor", "settings"] as const;
export type View = (typeof VIEWS)[number];

export const VIEW_TITLES: Record<View, string> = {
  data: "Data",
  pipeline: "Pipeline",
  models: "Models",
  deploy: "Deploy",
  monitor: "Monitor",
  settings: "Settings",
};

class AppState {
  view = $state<View>("data");
  session = $state<Session | null>(null);
  sessionError = $state<string | null>(null);
  /** A file dropped on the window, waiting for the Data view to inspect it. */
  droppedPath = $state<string | null>(null);
  /** A model version the Models view should open (from the bell). */
  focusVersion = $state<number | null>(null);
  /** Bumped when the session changes, so views reload as the new user. */
  sessionEpoch = $state(0);

  go(view: View) {
    this.view = view;
  }

  async loadSession() {
    try {
      this.session = await api.session();
      this.sessionError = null;
    } catch (e) {
      this.sessionError = api.toApiError(e).message;
    }
  }

  async switchUser(name: string) {
    this.session = await api.switchUser(name);
    this.sessionEpoch++;
  }

  /** Moves the panel to another workspace; every view reloads from it. */
  async openWorkspace(path: string) {
    this.#reopened(await api.workspaceOpen(path));
  }

  /** Saves the `[aws]` table and reopens the workspace on AWS; every view reloads. */
  async saveAws(text: string) {
    this.#reopened(await api.awsSave(text));
  }

  /** Reopens the workspace on another backend; every view reloads from it. */
  async selectBackend(kind: BackendKind) {
    this.#reopened(await api.backendSelect(kind));
  }

  #reopened(session: Session) {
    this.session = session;
    this.droppedPath = null;
    this.focusVersion = null;
    this.sessionEpoch++;
  }

  hasRole(role: string): boolean {
    return this.session?.roles.some((r) => r === role) ?? false;
  }
}

export const app = new AppState();
