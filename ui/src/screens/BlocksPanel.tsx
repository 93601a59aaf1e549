import { useState } from "preact/hooks";
import type { BlockView } from "../bindings";
import { call } from "../api";
import { Icon } from "../components/Icon";
import { ErrorNotice } from "../components/Notice";
import { toCommandError, type CommandError } from "../lib/errors";
import { formatDate, relativeTime } from "../lib/format";
import { toast } from "../lib/toast";
import { useCommand } from "../lib/useCommand";
import { ruleLabel } from "./AlertsPanel";

/**
 * Addresses a detection rule blocked for the team, until when, and Lift (in the sudo
 * window, which `call` asks for). Owners and admins only. `changes` (the alerts feed's
 * counter) reloads it when a block is made or lifted anywhere.
 */
export function BlocksPanel(props: { changes: number }) {
  const blocks = useCommand((c) => c.listBlocks(), [props.changes]);
  return (
    <section class="card card-flush" aria-labelledby="blocks-title" data-testid="blocks-panel">
      <div class="card-head">
        <h2 class="card-title" id="blocks-title">
          <Icon name="ban" />
          Blocked addresses
        </h2>
      </div>
      {blocks.data && blocks.data.length > 0 ? (
        <div class="table-wrap">
          <table class="table" data-testid="blocks-table">
            <thead>
              <tr>
                <th scope="col">Address</th>
                <th scope="col">Rule</th>
                <th scope="col">Since</th>
                <th scope="col">Until</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {blocks.data.map((b) => (
                <BlockRow key={b.id} block={b} onLifted={blocks.reload} />
              ))}
            </tbody>
          </table>
        </div>
      ) : blocks.data ? (
        <p class="empty pad" data-testid="blocks-empty">
          <Icon name="checkCircle" /> No address is blocked.
        </p>
      ) : blocks.loading ? (
        <p class="muted pad">Loading blocks…</p>
      ) : (
        <div class="pad">
          <ErrorNotice error={blocks.error} testid="blocks-error" />
        </div>
      )}
    </section>
  );
}

function BlockRow(props: { block: BlockView; onLifted: () => void }) {
  const b = props.block;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  return (
    <tr data-testid={`block-row-${b.id}`}>
      <td class="strong mono">{b.address}</td>
      <td>{ruleLabel(b.rule)}</td>
      <td title={formatDate(b.created_at)}>{relativeTime(b.created_at)}</td>
      <td>{formatDate(b.expires_at)}</td>
      <td class="row-actions">
        <button
          type="button"
          class="button button-secondary button-small"
          data-testid={`lift-block-${b.id}`}
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            setError(null);
            try {
              await call((c) => c.liftBlock(b.id));
              toast(`Block on ${b.address} lifted.`);
              props.onLifted();
            } catch (e) {
              setError(toCommandError(e));
              setBusy(false);
            }
          }}
        >
          Lift
        </button>
        <ErrorNotice error={error} testid={`lift-block-error-${b.id}`} />
      </td>
    </tr>
  );
}
