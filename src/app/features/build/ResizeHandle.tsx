import type { KeyboardEvent, PointerEvent } from "react";
import { useAppStore } from "../../store/index.ts";

const STEP = 24;

/**
 * The bottom panel's top edge: drag it (or focus it and press the arrow keys) to give the panel,
 * and so the terminal, more or less of the window's height.
 */
export function ResizeHandle() {
  const setBottomHeight = useAppStore((s) => s.setBottomHeight);
  const height = useAppStore((s) => s.ui.bottomHeight);

  const panelHeight = (el: Element): number => el.parentElement?.getBoundingClientRect().height ?? 0;

  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    const el = e.currentTarget;
    el.setPointerCapture(e.pointerId);
    const startY = e.clientY;
    const start = panelHeight(el);
    const move = (ev: globalThis.PointerEvent) => setBottomHeight(start + (startY - ev.clientY));
    const up = () => {
      el.removeEventListener("pointermove", move);
      el.removeEventListener("pointerup", up);
    };
    el.addEventListener("pointermove", move);
    el.addEventListener("pointerup", up);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const now = height ?? panelHeight(e.currentTarget);
    if (e.key === "ArrowUp") setBottomHeight(now + STEP);
    else if (e.key === "ArrowDown") setBottomHeight(now - STEP);
    else return;
    e.preventDefault();
  };

  return (
    // biome-ignore lint/a11y/useSemanticElements: a focusable splitter is a separator with a value, as ARIA's window splitter pattern says; <hr> cannot take focus or keys.
    <div
      className="resize-handle"
      role="separator"
      aria-orientation="horizontal"
      aria-label="Resize the bottom panel"
      aria-valuenow={height ?? 0}
      tabIndex={0}
      onPointerDown={onPointerDown}
      onKeyDown={onKeyDown}
    />
  );
}
