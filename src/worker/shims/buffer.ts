/**
 * just-bash (RUN's shell) uses Node's global `Buffer` in gzip and a few other commands; a worker
 * has none, so the browser build gets feross/buffer's, the same API.
 */
import { Buffer } from "buffer";

const g = globalThis as { Buffer?: unknown };
g.Buffer ??= Buffer;
