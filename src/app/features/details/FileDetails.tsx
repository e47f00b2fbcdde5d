import { useMemo } from "react";
import { formatBytes } from "../../../core/format.ts";
import { cleanPath } from "../../../core/fs/paths.ts";
import { formatHexLines, looksLikeText, sniffImageType } from "../../../core/view/hex.ts";
import type { FileView } from "../../../worker/protocol.ts";
import { useAppStore } from "../../store/index.ts";
import { FileActions } from "../container/FileActions.tsx";
import { CodeView } from "./CodeView.tsx";
import { FileDiff } from "./FileDiff.tsx";

const PAGE = 64 * 1024;

function modeString(type: string, mode: number): string {
  const t =
    type === "dir"
      ? "d"
      : type === "symlink"
        ? "l"
        : type === "char"
          ? "c"
          : type === "block"
            ? "b"
            : type === "fifo"
              ? "p"
              : "-";
  const rwx = (bits: number, special: boolean, ch: string) =>
    `${bits & 4 ? "r" : "-"}${bits & 2 ? "w" : "-"}${special ? (bits & 1 ? ch : ch.toUpperCase()) : bits & 1 ? "x" : "-"}`;
  return (
    t +
    rwx((mode >> 6) & 7, (mode & 0o4000) !== 0, "s") +
    rwx((mode >> 3) & 7, (mode & 0o2000) !== 0, "s") +
    rwx(mode & 7, (mode & 0o1000) !== 0, "t")
  );
}

/** Where a symlink points, as a clean path from the root (`..` stops at the root, as in a container). */
function resolveLink(path: string, target: string): string {
  return cleanPath(target.startsWith("/") ? target : `${path}/../${target}`);
}

/** Downloads the whole file (not just the part on screen), read from the worker. */
async function download(file: FileView) {
  const whole =
    file.offset === 0 && file.bytes.byteLength === file.size
      ? file.bytes
      : ((await useAppStore.getState().readWholeFile(file.path)) ?? file.bytes);
  const url = URL.createObjectURL(new Blob([whole as BlobPart]));
  const a = document.createElement("a");
  a.href = url;
  a.download = file.path.split("/").pop() || "file";
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** One file: its attributes, the layer that supplied it and the layers it hides, and its content. */
export function FileDetails() {
  const file = useAppStore((s) => s.explorer.file);
  const error = useAppStore((s) => s.explorer.fileError);
  const notice = useAppStore((s) => s.explorer.notice);
  const loading = useAppStore((s) => s.explorer.fileLoading);
  const openFile = useAppStore((s) => s.openFile);
  const inContainer = useAppStore((s) => s.ui.selectedLayer === "container");
  const imageLayers = useAppStore((s) => s.explorer.image?.layers.length ?? 0);
  const selectedLayer = useAppStore((s) => s.ui.selectedLayer);
  const viewLayer = typeof selectedLayer === "number" ? selectedLayer : imageLayers - 1;
  const content = useMemo(() => {
    if (file?.entry.type !== "file") return undefined;
    const img =
      file.offset === 0 && file.bytes.byteLength === file.size ? sniffImageType(file.bytes) : undefined;
    if (img)
      return {
        kind: "image" as const,
        url: URL.createObjectURL(new Blob([file.bytes as BlobPart], { type: img })),
      };
    if (looksLikeText(file.bytes))
      return { kind: "text" as const, text: new TextDecoder().decode(file.bytes) };
    return { kind: "hex" as const, lines: formatHexLines(file.bytes, file.offset) };
  }, [file]);

  if (error)
    return (
      <p className="error" role="alert">
        {error}
      </p>
    );
  // A compressed layer is unpacked when a file of it is first read: say so while that happens.
  if (loading && loading !== file?.path) return <p role="status">Reading /{loading}…</p>;
  if (!file && notice) return <p role="status">{notice}</p>;
  if (!file) return <p className="muted">Open a file in the tree (Enter or double-click) to see it here.</p>;
  const e = file.entry;
  const pages = Math.ceil(file.size / PAGE);
  const page = Math.floor(file.offset / PAGE);
  return (
    <div className="file-details">
      <h3 className="file-path">/{file.path}</h3>
      <dl className="facts">
        <dt>Type</dt>
        <dd>{e.type}</dd>
        <dt>Mode</dt>
        <dd>
          <code>
            {modeString(e.type, e.mode)} ({e.mode.toString(8).padStart(4, "0")})
          </code>
        </dd>
        <dt>Owner</dt>
        <dd>
          {e.uname || e.uid}:{e.gname || e.gid}
        </dd>
        <dt>Size</dt>
        <dd>{formatBytes(file.size)}</dd>
        {e.linkname !== undefined && (
          <>
            <dt>{e.type === "symlink" ? "Points to" : "Link to"}</dt>
            <dd>
              <code>{e.linkname}</code>{" "}
              {e.type === "symlink" && (
                <button
                  type="button"
                  className="link"
                  onClick={() => void openFile(resolveLink(file.path, e.linkname!))}
                >
                  open /{resolveLink(file.path, e.linkname!)}
                </button>
              )}
            </dd>
          </>
        )}
        {e.digest && (
          <>
            <dt>Digest</dt>
            <dd>
              <code className="digest">{e.digest}</code>
            </dd>
          </>
        )}
        <dt>From</dt>
        <dd data-testid="file-from">
          {file.layer >= imageLayers ? "the container layer" : `layer ${file.layer + 1}`}
          {file.copiedUpFrom !== undefined && ` (copied up from layer ${file.copiedUpFrom + 1})`}
        </dd>
        <dt>Hides</dt>
        <dd>
          {file.shadows.length ? file.shadows.map((l) => `layer ${l + 1}`).join(", ") : "nothing below"}
        </dd>
      </dl>
      {e.type === "file" && (
        <div className="file-actions">
          <button type="button" className="button-quiet" onClick={() => void download(file)}>
            Download
          </button>
          {pages > 1 && (
            <span className="pager">
              <button
                type="button"
                className="button-quiet"
                disabled={page === 0}
                onClick={() => void openFile(file.path, (page - 1) * PAGE)}
              >
                ◀
              </button>
              part {page + 1} of {pages}
              <button
                type="button"
                className="button-quiet"
                disabled={page + 1 >= pages}
                onClick={() => void openFile(file.path, (page + 1) * PAGE)}
              >
                ▶
              </button>
            </span>
          )}
        </div>
      )}
      {inContainer && (
        <FileActions
          path={file.path}
          mode={e.mode}
          text={
            content?.kind === "text" && file.bytes.byteLength === file.size
              ? content.text
              : e.type === "file" && file.size === 0
                ? ""
                : undefined
          }
        />
      )}
      {!inContainer && e.type === "file" && <FileDiff path={file.path} layer={viewLayer} />}
      {content?.kind === "image" && (
        <img className="preview" src={content.url} alt={`Preview of ${file.path}`} />
      )}
      {content?.kind === "text" && (
        <section aria-label="File content">
          <CodeView path={file.path} text={content.text} />
        </section>
      )}
      {content?.kind === "hex" && (
        <section aria-label="File content (hex)">
          <pre className="file-hex">
            {content.lines.map((l) => `${l.offset}  ${l.hex}  ${l.ascii}`).join("\n")}
          </pre>
        </section>
      )}
    </div>
  );
}
