import { Channel } from "@tauri-apps/api/core";
import { useEffect, useState } from "preact/hooks";
import type { AlertFeedEvent, AlertView, SessionView } from "../bindings";
import { call } from "../api";
import { toCommandError, type CommandError } from "./errors";

export interface AlertFeed {
  /** Open (unacknowledged) alerts, newest first; null until loaded. */
  open: AlertView[] | null;
  /** True while the server's live feed is connected. */
  live: boolean;
  error: CommandError | null;
  /**
   * Bumped by every detection event (an alert, a suspension, a reinstatement, a block), so
   * that the lists it changes (blocks, keys, the score) reload along with the alerts.
   */
  changes: number;
  reload: () => void;
}

/** Owners and admins see the team's alerts; the server answers 403 to everyone else. */
export function seesAlerts(session: SessionView | null): boolean {
  return session?.role === "owner" || session?.role === "admin";
}

/**
 * The open alerts, kept current by the live audit feed (commands.watchAlerts): each
 * detection event reloads the list, which stays the truth; the Rust side raises the OS
 * notification for critical alerts. Nothing is loaded or followed for members.
 */
export function useAlertFeed(session: SessionView | null, generation: number): AlertFeed {
  const [open, setOpen] = useState<AlertView[] | null>(null);
  const [live, setLive] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const [changes, setChanges] = useState(0);
  const allowed = seesAlerts(session);

  useEffect(() => {
    if (!allowed) {
      setOpen(null);
      return;
    }
    let active = true;
    call((c) => c.listAlerts("open"))
      .then((list) => {
        if (!active) return;
        setOpen(list);
        setError(null);
      })
      .catch((e) => {
        if (active) setError(toCommandError(e));
      });
    return () => {
      active = false;
    };
  }, [session, allowed, generation, changes]);

  useEffect(() => {
    if (!allowed) {
      setLive(false);
      return;
    }
    let active = true;
    const channel = new Channel<AlertFeedEvent>();
    channel.onmessage = (ev) => {
      if (!active) return;
      if (ev.kind === "disconnected") {
        setLive(false);
        return;
      }
      if (ev.kind === "connected") setLive(true);
      // (Re)connected or something changed: reload what may have moved meanwhile.
      setChanges((n) => n + 1);
    };
    call((c) => c.watchAlerts(channel)).catch(() => undefined);
    return () => {
      active = false;
    };
  }, [session, allowed, generation]);

  return { open, live, error, changes, reload: () => setChanges((n) => n + 1) };
}
