// What can be done to one agent key, each in the app's own dialog: rotate (overlap, then
// the new secret shown once), edit expiry and allowlist (errors tied to their field),
// revoke (the safe button focused first), reinstate a suspended key. The server asks for
// the sudo window on each change; `call` shows the one "Confirm it's you" step.
import { useEffect, useRef, useState } from "preact/hooks";
import type { AgentKeyView, RotatedAgentKey } from "../bindings";
import { call } from "../api";
import { Dialog } from "../components/Dialog";
import { ErrorNotice, Notice } from "../components/Notice";
import { ShowOnceDialog } from "../components/ShowOnce";
import { toCommandError, type CommandError } from "../lib/errors";
import { formatDate } from "../lib/format";
import { DEFAULT_OVERLAP, OVERLAPS, expiryInDays, expiryText, keyFileName, parseAllowlist, parseExpiry } from "../lib/keys";
import { toast } from "../lib/toast";

export function RevokeDialog(props: { k: AgentKeyView; onClose: (done: boolean) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  return (
    <Dialog
      title={`Revoke "${props.k.name}"?`}
      description="Agents using this key, and every token it issued, stop working at once. This cannot be undone."
      onRequestClose={() => props.onClose(false)}
      testid="revoke-dialog"
    >
      <ErrorNotice error={error} />
      <div class="dialog-actions">
        <button type="button" class="button button-ghost" data-testid="keep-key" onClick={() => props.onClose(false)}>
          Keep it
        </button>
        <button
          type="button"
          class="button button-danger"
          data-testid="confirm-revoke"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            try {
              await call((c) => c.revokeKey(props.k.id));
              toast(`Key "${props.k.name}" revoked.`);
              props.onClose(true);
            } catch (e) {
              setError(toCommandError(e));
              setBusy(false);
            }
          }}
        >
          Revoke key
        </button>
      </div>
    </Dialog>
  );
}

/** A suspended key works again. */
export function ReinstateButton(props: { k: AgentKeyView; onDone: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  return (
    <>
      <button
        type="button"
        class="button button-secondary button-small"
        data-testid={`reinstate-${props.k.id}`}
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            await call((c) => c.reinstateKey(props.k.id));
            toast(`Key "${props.k.name}" reinstated.`);
            props.onDone();
          } catch (e) {
            setError(toCommandError(e));
          } finally {
            setBusy(false);
          }
        }}
      >
        Reinstate
      </button>
      <ErrorNotice error={error} testid={`reinstate-error-${props.k.id}`} />
    </>
  );
}

/** Step one of a rotation: how long the old key keeps working. */
export function RotateKeyDialog(props: { k: AgentKeyView; onClose: () => void; onRotated: (r: RotatedAgentKey, overlap: string) => void }) {
  const [overlap, setOverlap] = useState(DEFAULT_OVERLAP);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const group = useRef<HTMLFieldSetElement>(null);
  // The dialog focuses its first field; the chosen overlap is the better start.
  useEffect(() => group.current?.querySelector<HTMLInputElement>("input:checked")?.focus(), []);
  const chosen = OVERLAPS.find((o) => o.value === overlap);
  return (
    <Dialog
      title={`Rotate "${props.k.name}"?`}
      description="A new key with the same name, scopes and allowlist replaces this one. Its secret is shown once."
      onRequestClose={props.onClose}
      testid="rotate-dialog"
    >
      <form
        class="form"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            props.onRotated(await call((c) => c.rotateKey(props.k.id, overlap)), overlap);
          } catch (err) {
            setError(toCommandError(err));
            setBusy(false);
          }
        }}
      >
        <fieldset class="field" ref={group}>
          <legend class="field-label">Keep the old key working for</legend>
          {OVERLAPS.map((o) => (
            <label key={o.value} class="checkbox">
              <input type="radio" name="rotate-overlap" value={o.value} data-testid={`overlap-${o.value}`} checked={overlap === o.value} onChange={() => setOverlap(o.value)} />
              <span>{o.label}</span>
            </label>
          ))}
          <p class={`hint ${overlap === "0s" ? "hint-warn" : ""}`} data-testid="overlap-hint">
            {chosen?.hint}
          </p>
        </fieldset>
        <ErrorNotice error={error} testid="rotate-error" />
        <div class="dialog-actions">
          <button type="button" class="button button-ghost" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" data-testid="rotate-submit" disabled={busy}>
            {busy ? <span class="spinner" aria-hidden="true" /> : null}
            Rotate key
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Step two: the new secret, once; "done" announces the rotation. */
export function RotatedKeyDialog(props: { rotated: RotatedAgentKey; revokedNow: boolean; onClose: () => void }) {
  const r = props.rotated;
  const ends = props.revokedNow ? "The old key and its tokens no longer work." : `The old key keeps working until ${formatDate(r.old_key_expires_at)}.`;
  return (
    <ShowOnceDialog
      title={`Key "${r.key.name}" rotated`}
      label="New agent key"
      value={r.secret}
      stored="I copied the new key and stored it safely"
      fileName={keyFileName(r.key.name)}
      fileText={`${r.secret}\n`}
      onClose={() => {
        toast(`Key "${r.key.name}" rotated. ${ends}`);
        props.onClose();
      }}
    >
      <Notice tone="info" testid="rotated-old-key">
        {ends} Give your agents the new key before then.
      </Notice>
    </ShowOnceDialog>
  );
}

/** Expiry and allowlist, as they should be afterwards; a server refusal marks its field. */
export function EditKeyDialog(props: { k: AgentKeyView; onClose: () => void; onSaved: (k: AgentKeyView) => void }) {
  const k = props.k;
  const [expiry, setExpiry] = useState(expiryText(k.expires_at));
  const [ips, setIps] = useState(k.ip_allowlist.join(", "));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const [expiryProblem, setExpiryProblem] = useState<string | null>(null);
  const ipsProblem = error?.field === "ip_allowlist" ? error.message : null;
  const serverExpiry = error?.field === "expires_at" ? error.message : null;
  const expiryError = expiryProblem ?? serverExpiry;
  const general = error && !ipsProblem && !serverExpiry ? error : null;

  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    const parsed = parseExpiry(expiry, k.expires_at);
    if (!parsed.ok) {
      setExpiryProblem(parsed.problem);
      document.getElementById("edit-key-expiry")?.focus();
      return;
    }
    setExpiryProblem(null);
    setBusy(true);
    try {
      const saved = await call((c) => c.updateKey(k.id, { expires_at: parsed.iso, ip_allowlist: parseAllowlist(ips) }));
      toast(`Key "${k.name}" updated.`);
      props.onSaved(saved);
    } catch (err) {
      const ce = toCommandError(err);
      setError(ce);
      if (ce.field === "ip_allowlist" || ce.field === "expires_at") {
        document.getElementById(ce.field === "ip_allowlist" ? "edit-key-ips" : "edit-key-expiry")?.focus();
      }
      setBusy(false);
    }
  }

  return (
    <Dialog title={`Edit "${k.name}"`} description="Change when the key expires and where it may be used from. Its secret stays the same." onRequestClose={props.onClose} testid="edit-key-dialog">
      <form class="form" onSubmit={submit} noValidate>
        <div class="field">
          <label class="field-label" for="edit-key-expiry">
            Expires
          </label>
          <input
            id="edit-key-expiry"
            data-testid="edit-key-expiry"
            type="text"
            placeholder="Never"
            spellcheck={false}
            value={expiry}
            aria-invalid={expiryError ? true : undefined}
            aria-describedby="edit-key-expiry-hint"
            onInput={(e) => {
              setExpiry(e.currentTarget.value);
              setExpiryProblem(null);
            }}
          />
          <div class="button-row">
            {[30, 90].map((d) => (
              <button key={d} type="button" class="button button-ghost button-small" data-testid={`edit-expiry-${d}d`} onClick={() => setExpiry(expiryInDays(d))}>
                In {d} days
              </button>
            ))}
            <button type="button" class="button button-ghost button-small" data-testid="edit-expiry-never" onClick={() => setExpiry("")}>
              Never
            </button>
          </div>
          <p id="edit-key-expiry-hint" class={`hint ${expiryError ? "hint-error" : ""}`} data-testid="edit-key-expiry-hint">
            {expiryError ?? (expiry.trim() ? "YYYY-MM-DD (end of that day) or YYYY-MM-DD HH:MM, your local time." : "Empty: the key never expires. Keys without expiry are flagged on the Security Vault page.")}
          </p>
        </div>
        <div class="field">
          <label class="field-label" for="edit-key-ips">
            IP allowlist <span class="optional">optional</span>
          </label>
          <input
            id="edit-key-ips"
            data-testid="edit-key-ips"
            type="text"
            placeholder="Any address"
            spellcheck={false}
            value={ips}
            aria-invalid={ipsProblem ? true : undefined}
            aria-describedby="edit-key-ips-hint"
            onInput={(e) => setIps(e.currentTarget.value)}
          />
          <p id="edit-key-ips-hint" class={`hint ${ipsProblem ? "hint-error" : ""}`} data-testid="edit-key-ips-hint">
            {ipsProblem ?? "Addresses or CIDRs, separated by commas, such as 10.0.0.0/8, 203.0.113.7. Empty: any address."}
          </p>
        </div>
        <ErrorNotice error={general} testid="edit-key-error" />
        <div class="dialog-actions">
          <button type="button" class="button button-ghost" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" data-testid="edit-key-submit" disabled={busy}>
            {busy ? <span class="spinner" aria-hidden="true" /> : null}
            Save
          </button>
        </div>
      </form>
    </Dialog>
  );
}
