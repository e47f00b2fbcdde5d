import { decodeSharedDockerfile, encodeSharedDockerfile } from "../core/view/share.ts";
import { useAppStore } from "./store/index.ts";
import type { LayerSelection } from "./store/ui-slice.ts";

/** What the address bar holds: the selected image (short id), layer and path. */
interface UrlSelection {
  image?: string;
  layer?: LayerSelection;
  path?: string;
}

function readUrl(): UrlSelection {
  const q = new URLSearchParams(location.search);
  const layer = q.get("layer");
  return {
    image: q.get("image") ?? undefined,
    layer: layer === null ? undefined : layer === "container" ? "container" : Math.max(0, Number(layer) - 1),
    path: q.get("path") ?? undefined,
  };
}

function urlFor(sel: UrlSelection): string {
  const q = new URLSearchParams();
  if (sel.image) q.set("image", sel.image);
  if (sel.layer !== undefined)
    q.set("layer", sel.layer === "container" ? "container" : String(sel.layer + 1));
  if (sel.path) q.set("path", sel.path);
  const s = q.toString();
  return `${location.pathname}${s ? `?${s}` : ""}${location.hash}`;
}

let applying = false;

/** Applies a URL's selection to the store once the library is loaded. */
async function applyUrl(sel: UrlSelection): Promise<void> {
  const st = useAppStore.getState();
  const lib = st.explorer.library;
  const img = sel.image ? lib?.images.find((i) => i.id.slice(7).startsWith(sel.image!)) : undefined;
  applying = true;
  try {
    if (img && img.id !== st.ui.selectedImage) await st.selectImage(img.id);
    if (sel.layer !== undefined && sel.layer !== useAppStore.getState().ui.selectedLayer) {
      useAppStore.getState().selectLayer(sel.layer);
    }
    if (sel.path && sel.path !== useAppStore.getState().ui.selectedPath) {
      const parts = sel.path.split("/");
      for (let i = 1; i < parts.length; i++)
        useAppStore.getState().toggleExpanded(parts.slice(0, i).join("/"), true);
      await useAppStore.getState().openFile(sel.path);
    }
  } finally {
    applying = false;
  }
}

/**
 * Keeps the address bar and the selection in step: choosing an image or a layer adds a history
 * entry (so Back returns to the previous one), choosing a file replaces the current entry, and a
 * link with `?image=…&layer=…&path=…` opens that selection. A `#df=…` fragment carries a shared
 * Dockerfile.
 */
export function startUrlSync(): () => void {
  const shared = decodeSharedDockerfile(location.hash);
  if (shared !== undefined) {
    useAppStore.getState().setDockerfile(shared);
    history.replaceState(null, "", `${location.pathname}${location.search}`);
  }
  // A `#lesson=…` fragment hands the learner a teacher's course.
  if (useAppStore.getState().openLessonLink(location.hash)) {
    history.replaceState(null, "", `${location.pathname}${location.search}`);
  }
  const initial = readUrl();
  let pendingInitial = initial.image !== undefined;
  const unsub = useAppStore.subscribe((s, prev) => {
    if (pendingInitial && s.explorer.library && !prev.explorer.library) {
      pendingInitial = false;
      void applyUrl(initial);
      return;
    }
    if (applying || pendingInitial) return;
    const cur: UrlSelection = {
      image: s.ui.selectedImage?.slice(7, 19),
      layer: s.ui.selectedImage ? s.ui.selectedLayer : undefined,
      path: s.ui.selectedPath,
    };
    const next = urlFor(cur);
    if (next === `${location.pathname}${location.search}${location.hash}`) return;
    const bigMove =
      s.ui.selectedImage !== prev.ui.selectedImage || s.ui.selectedLayer !== prev.ui.selectedLayer;
    if (bigMove && prev.ui.selectedImage) history.pushState(null, "", next);
    else history.replaceState(null, "", next);
  });
  const onPop = () => void applyUrl(readUrl());
  window.addEventListener("popstate", onPop);
  return () => {
    unsub();
    window.removeEventListener("popstate", onPop);
  };
}

/** A link that opens LayerLab with this Dockerfile in the editor. */
export function shareLink(text: string): string {
  return `${location.origin}${location.pathname}#${encodeSharedDockerfile(text)}`;
}
