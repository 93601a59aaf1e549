import { Channel } from "@tauri-apps/api/core";
import { useEffect, useState } from "preact/hooks";
import type { ApprovalFeedEvent, ApprovalView, SessionView } from "../bindings";
import { call } from "../api";
import { applyFeedEvent } from "./approvals";
import { toCommandError, type CommandError } from "./errors";

export interface ApprovalFeed {
  /** Pending requests in the tenant, newest first; null until loaded (or not allowed). */
  pending: ApprovalView[] | null;
  /** True while the server's live feed is connected. */
  live: boolean;
  /** Why the pending list could not be loaded (a member who may not approve: forbidden). */
  error: CommandError | null;
  /** The request whose notification was clicked last (`seq` tells two clicks on one apart). */
  opened: { id: string; seq: number } | null;
  reload: () => void;
}

/**
 * The pending requests, kept current by the server's live feed (commands.watchApprovals).
 * The whole list is reloaded each time the feed (re)connects, so nothing missed while
 * disconnected stays missing; in between, each event is merged in place.
 */
export function useApprovalFeed(session: SessionView | null, generation: number): ApprovalFeed {
  const [pending, setPending] = useState<ApprovalView[] | null>(null);
  const [live, setLive] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const [tick, setTick] = useState(0);
  const [opened, setOpened] = useState<{ id: string; seq: number } | null>(null);

  useEffect(() => {
    if (!session) {
      setPending(null);
      setLive(false);
      return;
    }
    let active = true;
    call((c) => c.listApprovals("pending"))
      .then((list) => {
        if (!active) return;
        setPending(list);
        setError(null);
      })
      .catch((e) => {
        if (!active) return;
        setPending(null);
        setError(toCommandError(e));
      });
    return () => {
      active = false;
    };
  }, [session, generation, tick]);

  useEffect(() => {
    if (!session) return;
    let active = true;
    const channel = new Channel<ApprovalFeedEvent>();
    channel.onmessage = (ev) => {
      if (!active) return;
      if (ev.kind === "connected") {
        setLive(true);
        setTick((t) => t + 1);
      } else if (ev.kind === "disconnected") {
        setLive(false);
      } else if (ev.kind === "open") {
        const id = ev.approval?.id;
        if (id) setOpened((o) => ({ id, seq: (o?.seq ?? 0) + 1 }));
      } else {
        setPending((list) => (list ? applyFeedEvent(list, ev) : list));
      }
    };
    // A person who may not approve gets `forbidden`: the inbox simply stays static.
    call((c) => c.watchApprovals(channel)).catch(() => undefined);
    return () => {
      active = false;
    };
  }, [session, generation]);

  return { pending, live, error, opened, reload: () => setTick((t) => t + 1) };
}
