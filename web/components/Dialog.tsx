/**
 * A modal dialog on the native <dialog> element: the browser traps focus, closes it on Escape and
 * gives it the dialog role, so keyboard and screen-reader users get the right behaviour for free.
 */
import type { ComponentChildren } from "preact";
import { useLayoutEffect, useRef } from "preact/hooks";

let nextId = 0;

export function Dialog({
  title,
  onClose,
  children,
}: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useRef(`dialog-title-${++nextId}`).current;
  // a layout effect, so the dialog is open before its content's effects move the focus inside it
  useLayoutEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    // focus returns to whatever opened the dialog when it closes
    const opener = document.activeElement as HTMLElement | null;
    dialog.showModal();
    return () => opener?.focus();
  }, []);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby={titleId} onClose={onClose}>
      <div class="dialog-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" class="icon-button" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
      {children}
    </dialog>
  );
}
