// The bell: what is new since the last poll, and a native notification for
// it when the notification plugin is there (silently nothing otherwise).

import { isTauri } from "@tauri-apps/api/core";

import type { ModelVersion } from "./bindings";
import type { AlarmState, Notifications } from "./types";

export const approvalKey = (v: ModelVersion) => `approval:${v.group}/${v.version}`;
export const alarmKey = (a: AlarmState) => `alarm:${a.rule}@${a.since ?? ""}`;

/** Keys of everything the notifications hold. */
export function keysOf(n: Notifications): Set<string> {
  return new Set([...n.pending_approvals.map(approvalKey), ...n.firing_alarms.map(alarmKey)]);
}

export type NewItems = { approvals: ModelVersion[]; alarms: AlarmState[] };

/** Items not in `seen` (`seen = null`: the first poll, which announces nothing). */
export function newSince(seen: ReadonlySet<string> | null, n: Notifications): NewItems {
  if (seen === null) return { approvals: [], alarms: [] };
  return {
    approvals: n.pending_approvals.filter((v) => !seen.has(approvalKey(v))),
    alarms: n.firing_alarms.filter((a) => !seen.has(alarmKey(a))),
  };
}

/** Sends a native notification; does nothing outside Tauri or without the plugin or permission. */
export async function notifyNative(title: string, body: string): Promise<void> {
  try {
    if (!isTauri()) return;
    const plugin = await import("@tauri-apps/plugin-notification");
    let granted = await plugin.isPermissionGranted();
    if (!granted) granted = (await plugin.requestPermission()) === "granted";
    if (granted) plugin.sendNotification({ title, body });
  } catch {
    // The plugin is not available: the bell in the header still shows it.
  }
}

export async function announce(items: NewItems): Promise<void> {
  for (const a of items.alarms) {
    await notifyNative(
      `Alarm: ${a.rule}`,
      `${a.rule} is ${a.state}${a.value != null ? ` (value ${a.value})` : ""}`,
    );
  }
  for (const v of items.approvals) {
    await notifyNative("Approval waiting", `${v.group} version ${v.version} awaits your decision`);
  }
}
