import { type RefObject, useEffect, useState } from "react";

/** What the stylesheet's `--row-height` gives when it cannot be read (the desktop height). */
export const DEFAULT_ROW_HEIGHT = 24;

function readRowHeight(el: Element): number {
  const px = Number.parseFloat(getComputedStyle(el).getPropertyValue("--row-height"));
  return Number.isFinite(px) && px > 0 ? px : DEFAULT_ROW_HEIGHT;
}

/**
 * The height of one row of a virtualized list, read from the CSS variable `--row-height` that the
 * stylesheets set (24 px, 40 px on touch screens and narrow widths), so the rows the list places
 * and the rows the CSS draws always agree. Read again when the list resizes (a breakpoint is a
 * width) and when the pointer changes between fine and coarse.
 */
export function useRowHeight(ref: RefObject<HTMLElement | null>): number {
  const [row, setRow] = useState(DEFAULT_ROW_HEIGHT);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const update = () => setRow(readRowHeight(el));
    update();
    const ro = new ResizeObserver(update);
    ro.observe(el);
    const coarse = window.matchMedia("(pointer: coarse)");
    coarse.addEventListener("change", update);
    window.addEventListener("resize", update);
    return () => {
      ro.disconnect();
      coarse.removeEventListener("change", update);
      window.removeEventListener("resize", update);
    };
  }, [ref]);
  return row;
}
