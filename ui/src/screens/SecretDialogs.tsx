import { useState } from "preact/hooks";
import type { ApprovalNeeded, SecretDetailsView } from "../bindings";
import { call } from "../api";
import { ApprovalProgress } from "../components/ApprovalProgress";
import { Dialog } from "../components/Dialog";
import { ErrorNotice, Notice } from "../components/Notice";
import { toCommandError, type CommandError } from "../lib/errors";
import { TIERS, TYPES, tierRank, typeWord } from "../lib/secrets";

export type WriteMode = "new" | "rotate" | "tier";

const TITLES: Record<WriteMode, string> = {
  new: "New secret",
  rotate: "New version",
  tier: "Change tier",
};

/**
 * Write a version: a new secret, a rotation, or a tier change (the API changes a tier by
 * writing a version, so it takes the value too). A tiered secret's new version needs the
 * sudo window; lowering a tier needs an approval, followed here until it is granted.
 */
export function WriteDialog(props: { mode: WriteMode; details: SecretDetailsView | null; folder: string; onClose: () => void; onWritten: (path: string) => void }) {
  const d = props.details;
  const [path, setPath] = useState(d?.path ?? props.folder);
  const [value, setValue] = useState("");
  const [kind, setKind] = useState(d?.kind ?? "generic");
  const [tier, setTier] = useState(d?.tier ?? "standard");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const [needed, setNeeded] = useState<ApprovalNeeded | null>(null);
  const lowering = d !== null && props.mode === "tier" && tierRank(tier) < tierRank(d.tier);

  async function write() {
    setBusy(true);
    setError(null);
    try {
      const out = await call((c) =>
        c.writeSecret({
          path: path.trim(),
          value,
          kind: props.mode === "rotate" ? null : kind,
          tier: props.mode === "rotate" ? null : tier,
        }),
      );
      if (out.outcome === "written") {
        setValue("");
        props.onWritten(out.written.path);
      } else {
        setNeeded(out.approval);
      }
    } catch (err) {
      setError(toCommandError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title={TITLES[props.mode]} description={d?.path} onRequestClose={props.onClose} testid="write-secret-dialog" wide>
      <form
        class="form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void write();
        }}
      >
        {props.mode === "new" ? (
          <div class="field">
            <label class="field-label" for="secret-path">
              Path
            </label>
            <input id="secret-path" data-testid="secret-path" type="text" spellcheck={false} placeholder="production/stripe/API_KEY" value={path} onInput={(e) => setPath(e.currentTarget.value)} />
          </div>
        ) : null}
        {props.mode !== "rotate" ? (
          <div class="field-row">
            {props.mode === "new" ? (
              <div class="field">
                <label class="field-label" for="secret-kind">
                  Type
                </label>
                <select id="secret-kind" data-testid="secret-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
                  {TYPES.map((t) => (
                    <option key={t} value={t}>
                      {typeWord(t)}
                    </option>
                  ))}
                </select>
              </div>
            ) : null}
            <div class="field">
              <label class="field-label" for="secret-tier">
                Tier
              </label>
              <select id="secret-tier" data-testid="secret-tier" value={tier} onChange={(e) => setTier(e.currentTarget.value)}>
                {TIERS.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
            </div>
          </div>
        ) : null}
        {props.mode === "tier" ? (
          <Notice tone="info">
            Keyhold changes a tier by writing a new version: enter the value it should hold.{lowering ? " Lowering a tier needs an approval at the current tier." : ""}
          </Notice>
        ) : null}
        <div class="field">
          <label class="field-label" for="secret-value">
            Value
          </label>
          <textarea
            id="secret-value"
            data-testid="secret-value-input"
            class="mono"
            rows={3}
            spellcheck={false}
            autocomplete="off"
            value={value}
            onInput={(e) => setValue(e.currentTarget.value)}
          />
          {tier !== "standard" ? <p class="hint">A {tier} secret: reading it needs approval, and a new version asks you to confirm it's you.</p> : null}
        </div>
        {needed ? <ApprovalProgress needed={needed} readyLabel="Change tier now" toTier={tier} busy={busy} onReady={() => void write()} /> : null}
        <ErrorNotice error={error} testid="write-secret-error" />
        <div class="dialog-actions">
          <button type="button" class="button button-ghost" onClick={props.onClose}>
            Cancel
          </button>
          {needed ? null : (
            <button type="submit" class="button button-primary" data-testid="write-secret-submit" disabled={busy || !value || !path.trim()}>
              {busy ? <span class="spinner" aria-hidden="true" /> : null}
              {props.mode === "new" ? "Save secret" : props.mode === "rotate" ? "Save new version" : "Change tier"}
            </button>
          )}
        </div>
      </form>
    </Dialog>
  );
}

/** Delete a secret with every version; a tiered one needs an approval first. */
export function DeleteDialog(props: { details: SecretDetailsView; onClose: () => void; onDeleted: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const [needed, setNeeded] = useState<ApprovalNeeded | null>(null);

  async function remove() {
    setBusy(true);
    setError(null);
    try {
      const out = await call((c) => c.deleteSecret(props.details.path));
      if (out.outcome === "deleted") props.onDeleted();
      else setNeeded(out.approval);
    } catch (err) {
      setError(toCommandError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title={`Delete ${props.details.path}?`} onRequestClose={props.onClose} testid="delete-secret-dialog">
      <p>Every version goes, for good. Agents and people reading it get "not found" from now on.</p>
      {needed ? <ApprovalProgress needed={needed} readyLabel="Delete now" busy={busy} onReady={() => void remove()} /> : null}
      <ErrorNotice error={error} testid="delete-secret-error" />
      <div class="dialog-actions">
        <button type="button" class="button button-ghost" onClick={props.onClose}>
          Keep it
        </button>
        {needed ? null : (
          <button type="button" class="button button-danger" data-testid="delete-secret-confirm" disabled={busy} onClick={() => void remove()}>
            Delete secret
          </button>
        )}
      </div>
    </Dialog>
  );
}
