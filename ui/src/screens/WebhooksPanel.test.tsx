// Webhooks in Settings: add an endpoint (its secret shown once, with copy, and an in-app
// confirmation before closing without storing it), then manage it: a test, the delivery
// log with statuses and retry, rotating the secret, disabling, removing.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, it, vi } from "vitest";
import { calls, callsBut, commandError, resetScript, setScript } from "../testing/scripted";

vi.mock("../api", async () => ({ call: (await import("../testing/scripted")).scriptedCall }));

const { WebhooksPanel } = await import("./WebhooksPanel");

function hook(id: string, over: Record<string, unknown> = {}) {
  return {
    id,
    kind: "webhook",
    url_display: "https://hooks.example.com/…",
    events: [],
    description: "CI alerts",
    enabled: true,
    disabled_reason: null,
    created_at: "2026-01-01T00:00:00Z",
    failing_since: null,
    previous_secret_until: null,
    ...over,
  };
}

function delivery(id: string, status: string, over: Record<string, unknown> = {}) {
  return {
    id,
    event_type: "webhook.test",
    status,
    attempts: 1,
    created_at: "2026-01-01T00:00:00Z",
    next_attempt_at: null,
    last_attempt_at: "2026-01-01T00:00:01Z",
    last_status: status === "delivered" ? 200 : 500,
    last_error: status === "failed" ? "HTTP 500" : null,
    last_response: null,
    ...over,
  };
}

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

afterEach(() => {
  cleanup();
  resetScript();
  vi.unstubAllGlobals();
});

describe("WebhooksPanel", () => {
  it("adds an endpoint for some events and shows its secret once, asking in-app before closing unstored", async () => {
    const confirm = vi.fn(() => true);
    vi.stubGlobal("confirm", confirm);
    let added = false;
    setScript({
      listWebhooks: () => (added ? [hook("wh_1")] : []),
      createWebhook: (w) => {
        added = true;
        return { webhook: hook("wh_1"), secret: SECRET, sent: w };
      },
    });
    render(<WebhooksPanel />);
    await screen.findByTestId("webhooks-empty");
    fireEvent.click(screen.getByTestId("webhook-add-button"));
    fireEvent.input(screen.getByTestId("webhook-url"), { target: { value: " https://hooks.example.com/keyhold " } });
    fireEvent.click(screen.getByTestId("webhook-events-some"));
    expect((screen.getByTestId("webhook-add-submit") as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByTestId("webhook-event-approval.*"));
    fireEvent.click(screen.getByTestId("webhook-event-key.*"));
    fireEvent.input(screen.getByTestId("webhook-description"), { target: { value: "CI alerts" } });
    fireEvent.click(screen.getByTestId("webhook-add-submit"));

    expect((await screen.findByTestId("show-once-secret")).textContent).toBe(SECRET);
    expect(screen.getByTestId("show-once-secret-copy")).toBeTruthy();
    expect(calls[1]).toBe('createWebhook({"url":"https://hooks.example.com/keyhold","kind":"webhook","events":["approval.*","key.*"],"description":"CI alerts"})');
    await screen.findByTestId("webhook-row-wh_1");

    // Closing before "I stored it": the app's own question, not the browser's.
    fireEvent.click(screen.getByTestId("dialog-close"));
    await screen.findByTestId("show-once-leave");
    expect(confirm).not.toHaveBeenCalled();
    fireEvent.click(screen.getByTestId("show-once-back"));
    expect(screen.getByTestId("show-once-secret").textContent).toBe(SECRET);
    fireEvent.click(screen.getByTestId("show-once-confirm"));
    fireEvent.click(screen.getByTestId("show-once-close"));
    await waitFor(() => expect(screen.queryByTestId("show-once-dialog")).toBeNull());
    expect(document.body.textContent).not.toContain(SECRET);
  });

  it("a Slack channel has no secret to show", async () => {
    setScript({ listWebhooks: () => [], createWebhook: () => ({ webhook: hook("wh_s", { kind: "slack", url_display: "https://hooks.slack.com/…" }), secret: null }) });
    render(<WebhooksPanel />);
    await screen.findByTestId("webhooks-empty");
    fireEvent.click(screen.getByTestId("webhook-add-button"));
    fireEvent.change(screen.getByTestId("webhook-kind"), { target: { value: "slack" } });
    expect((screen.getByTestId("webhook-url") as HTMLInputElement).type).toBe("password");
    fireEvent.input(screen.getByTestId("webhook-url"), { target: { value: "https://hooks.slack.com/services/T/B/x" } });
    fireEvent.click(screen.getByTestId("webhook-add-submit"));
    await screen.findByTestId("webhook-added");
    expect(screen.queryByTestId("show-once-secret")).toBeNull();
    expect(calls[1]).toContain('"kind":"slack","events":[]');
  });

  it("shows the delivery log with statuses, sends a test and retries a failed delivery", async () => {
    let log = [delivery("d_1", "failed")];
    setScript({
      listWebhooks: () => [hook("wh_1")],
      webhookDeliveries: () => log,
      testWebhook: () => {
        log = [delivery("d_2", "delivered"), ...log];
        return log[0];
      },
      retryWebhookDelivery: () => delivery("d_1", "pending"),
    });
    render(<WebhooksPanel />);
    fireEvent.click(await screen.findByTestId("webhook-manage-wh_1"));
    expect((await screen.findByTestId("delivery-status-d_1")).textContent).toBe("Failed");
    expect(screen.getByTestId("delivery-row-d_1").textContent).toContain("HTTP 500");
    fireEvent.click(screen.getByTestId("webhook-test"));
    expect((await screen.findByTestId("delivery-status-d_2")).textContent).toBe("Delivered");
    expect(screen.queryByTestId("delivery-retry-d_2")).toBeNull();
    fireEvent.click(screen.getByTestId("delivery-retry-d_1"));
    await screen.findByTestId("webhook-note");
    expect(callsBut("listWebhooks", "webhookDeliveries")).toEqual(['testWebhook("wh_1")', 'retryWebhookDelivery("wh_1", "d_1")']);
  });

  it("rotates the secret after an in-app confirmation and shows the new one once", async () => {
    setScript({
      listWebhooks: () => [hook("wh_1")],
      webhookDeliveries: () => [],
      rotateWebhookSecret: () => ({ webhook: hook("wh_1", { previous_secret_until: "2026-01-02T00:00:00Z" }), secret: SECRET }),
    });
    render(<WebhooksPanel />);
    fireEvent.click(await screen.findByTestId("webhook-manage-wh_1"));
    await screen.findByTestId("deliveries-empty");
    fireEvent.click(screen.getByTestId("webhook-rotate"));
    expect(screen.getByTestId("webhook-rotate-dialog").textContent).toContain("24 hours");
    expect(callsBut("listWebhooks", "webhookDeliveries")).toEqual([]);
    fireEvent.click(screen.getByTestId("webhook-rotate-dialog-confirm"));
    expect((await screen.findByTestId("show-once-secret")).textContent).toBe(SECRET);
    expect(callsBut("listWebhooks", "webhookDeliveries")).toEqual(['rotateWebhookSecret("wh_1")']);
  });

  it("disables through the sudo prompt and removes after confirming", async () => {
    let enabled = true;
    let removed = false;
    setScript({
      listWebhooks: () => (removed ? [] : [hook("wh_1", { enabled })]),
      webhookDeliveries: () => [],
      updateWebhook: (_id, change) => {
        enabled = (change as { enabled: boolean }).enabled;
        return hook("wh_1", { enabled });
      },
      deleteWebhook: () => {
        removed = true;
        return null;
      },
    });
    render(<WebhooksPanel />);
    fireEvent.click(await screen.findByTestId("webhook-manage-wh_1"));
    await screen.findByTestId("deliveries-empty");
    fireEvent.click(screen.getByTestId("webhook-toggle"));
    await waitFor(() => expect(screen.getByTestId("webhook-dialog-state").textContent).toBe("Disabled"));
    expect(screen.getByTestId("webhook-toggle").textContent).toContain("Enable");
    fireEvent.click(screen.getByTestId("webhook-remove"));
    fireEvent.click(screen.getByTestId("webhook-remove-dialog-confirm"));
    await screen.findByTestId("webhooks-empty");
    expect(callsBut("listWebhooks", "webhookDeliveries")).toEqual([
      'updateWebhook("wh_1", {"url":null,"events":null,"description":null,"enabled":false})',
      'deleteWebhook("wh_1")',
    ]);
  });

  it("tells people who are not owners or admins that webhooks are theirs", async () => {
    setScript({
      listWebhooks: () => {
        throw commandError("forbidden", "Only owners and admins.");
      },
    });
    render(<WebhooksPanel />);
    await screen.findByTestId("webhooks-forbidden");
    expect((screen.getByTestId("webhook-add-button") as HTMLButtonElement).disabled).toBe(true);
  });
});
