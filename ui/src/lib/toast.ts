// Completed actions say so: a short message in the one toast area (components/Toasts.tsx).
// A module-level bus so that a dialog that closes on success can still announce it.

export interface ToastItem {
  id: number;
  message: string;
}

type Listener = (t: ToastItem) => void;
const listeners = new Set<Listener>();
let next = 1;

/** Announce a completed action ("Password changed"). Never a secret: it is shown and read aloud. */
export function toast(message: string): void {
  const item = { id: next++, message };
  listeners.forEach((l) => l(item));
}

export function onToast(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
