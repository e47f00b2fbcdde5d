/**
 * The streaming tar reader: a push parser over chunks (`readTar` for a stream, `TarParser` for a
 * decoder's output) and a header walk by offset over a File or Blob (`readTarHeaders`), so an
 * import can hand each layer's byte range to a worker. LayerLab's own on purpose: the npm tar
 * libraries are built on Node streams and cannot read headers by offset, and an archive is
 * hostile input here (bounded PAX/long-name records, checked header checksums, errors that name
 * the entry and byte offset), which this reader enforces in one place for the browser and Node.
 */
import { ArchiveError, throwIfAborted } from "../errors.ts";
import {
  BLOCK,
  decodeHeader,
  isMetaType,
  isZeroBlock,
  type PendingMeta,
  parsePax,
  type RawHeader,
  resolveHeader,
  type TarHeader,
} from "./tar-header.ts";

/** What a push parser reports, in archive order. */
export interface TarHandler {
  /** A header; its data follows as `data` calls, then `entryEnd`. */
  entry(header: TarHeader): void;
  /** Part of the current entry's data (a view into the pushed chunk: copy it to keep it). */
  data(chunk: Uint8Array): void;
  entryEnd(header: TarHeader): void;
}

/** Limits of the tar parser. */
export interface TarParserOptions {
  /** Largest PAX or GNU long-name record accepted (default 1 MiB). */
  maxMetaBytes?: number;
}

type State = "header" | "data" | "pad" | "meta" | "end";

/**
 * A streaming tar parser: push chunks of any size, get entries and their data back synchronously.
 * Holds at most one header block and one meta record; never the archive.
 */
export class TarParser {
  private state: State = "header";
  private readonly block = new Uint8Array(BLOCK);
  private blockFill = 0;
  private remaining = 0;
  private pad = 0;
  /** Bytes consumed so far. */
  offset = 0;
  private sawZero = false;
  private current: TarHeader | undefined;
  private meta: PendingMeta = {
    global: {},
    local: undefined,
    longName: undefined,
    longLink: undefined,
    start: undefined,
  };
  private metaRaw: RawHeader | undefined;
  private metaBuf: Uint8Array | undefined;
  private metaFill = 0;
  private readonly maxMeta: number;

  constructor(
    private readonly handler: TarHandler,
    options: TarParserOptions = {},
  ) {
    this.maxMeta = options.maxMetaBytes ?? 1 << 20;
  }

  /** True once the end-of-archive marker has been read. */
  get ended(): boolean {
    return this.state === "end";
  }

  push(chunk: Uint8Array): void {
    let at = 0;
    const len = chunk.byteLength;
    while (at < len) {
      switch (this.state) {
        case "end":
          this.offset += len - at;
          return;
        case "header": {
          const n = Math.min(BLOCK - this.blockFill, len - at);
          if (this.blockFill === 0 && n === BLOCK) {
            at += BLOCK;
            this.onBlock(chunk.subarray(at - BLOCK, at));
          } else {
            this.block.set(chunk.subarray(at, at + n), this.blockFill);
            this.blockFill += n;
            at += n;
            if (this.blockFill === BLOCK) {
              this.blockFill = 0;
              this.onBlock(this.block);
            }
          }
          break;
        }
        case "data": {
          const n = Math.min(this.remaining, len - at);
          this.handler.data(chunk.subarray(at, at + n));
          at += n;
          this.offset += n;
          this.remaining -= n;
          if (this.remaining === 0) this.finishEntry();
          break;
        }
        case "pad": {
          const n = Math.min(this.pad, len - at);
          at += n;
          this.offset += n;
          this.pad -= n;
          if (this.pad === 0) this.state = "header";
          break;
        }
        case "meta": {
          const buf = this.metaBuf!;
          const n = Math.min(buf.byteLength - this.metaFill, len - at);
          buf.set(chunk.subarray(at, at + n), this.metaFill);
          this.metaFill += n;
          at += n;
          this.offset += n;
          if (this.metaFill === buf.byteLength) this.finishMeta();
          break;
        }
      }
    }
  }

  /** Call when the input ends; throws ArchiveError when the archive was cut short. */
  end(): void {
    if (this.state === "end") return;
    if (
      this.state === "header" &&
      this.blockFill === 0 &&
      this.metaRaw === undefined &&
      this.meta.start === undefined
    ) {
      if (this.offset === 0) throw new ArchiveError("empty input: not a tar archive", { offset: 0 });
      // A missing end-of-archive marker at an entry boundary is accepted, as GNU tar and Go do.
      this.state = "end";
      return;
    }
    const entry = this.current?.name ?? this.metaRaw?.name;
    throw new ArchiveError("truncated tar archive: input ended inside an entry", {
      entry,
      offset: this.offset,
    });
  }

  private onBlock(block: Uint8Array): void {
    const at = this.offset;
    this.offset += BLOCK;
    if (isZeroBlock(block)) {
      if (this.meta.start !== undefined) {
        throw new ArchiveError("end of archive right after a PAX or long-name record", { offset: at });
      }
      if (this.sawZero) this.state = "end";
      this.sawZero = true;
      return;
    }
    if (this.sawZero) {
      throw new ArchiveError("corrupt tar archive: a lone zero block before more entries", {
        offset: at - BLOCK,
      });
    }
    const raw = decodeHeader(block, at);
    if (isMetaType(raw.typeflag)) {
      if (raw.size > this.maxMeta) {
        throw new ArchiveError(
          `tar meta record of ${raw.size} bytes exceeds the limit of ${this.maxMeta}`,
          { entry: raw.name, offset: at },
          "ARCHIVE_TOO_LARGE",
        );
      }
      this.meta.start ??= at;
      this.metaRaw = raw;
      this.metaBuf = new Uint8Array(raw.size);
      this.metaFill = 0;
      this.pad = (BLOCK - (raw.size % BLOCK)) % BLOCK;
      if (raw.size === 0) this.finishMeta();
      else this.state = "meta";
      return;
    }
    const header = resolveHeader(raw, this.meta, this.meta.start ?? at, this.offset);
    this.meta = {
      global: this.meta.global,
      local: undefined,
      longName: undefined,
      longLink: undefined,
      start: undefined,
    };
    this.current = header;
    this.handler.entry(header);
    this.remaining = header.size;
    this.pad = (BLOCK - (header.size % BLOCK)) % BLOCK;
    if (this.remaining === 0) this.finishEntry();
    else this.state = "data";
  }

  private finishEntry(): void {
    const header = this.current!;
    this.state = this.pad > 0 ? "pad" : "header";
    this.handler.entryEnd(header);
    this.current = undefined;
  }

  private finishMeta(): void {
    const raw = this.metaRaw!;
    const data = this.metaBuf!;
    this.metaRaw = undefined;
    this.metaBuf = undefined;
    applyMeta(this.meta, raw, data);
    this.state = this.pad > 0 ? "pad" : "header";
  }
}

/** Applies one PAX / GNU long-name record to the pending meta of the next header. */
function applyMeta(meta: PendingMeta, raw: RawHeader, data: Uint8Array): void {
  const at = meta.start!;
  switch (raw.typeflag) {
    case "x":
      meta.local = { ...(meta.local ?? {}), ...parsePax(data, raw.name, at) };
      break;
    case "g":
      meta.global = { ...meta.global, ...parsePax(data, raw.name, at) };
      // A global header is an entry of its own, not a prefix of the next one.
      meta.start = undefined;
      break;
    case "L":
      meta.longName = nulTerminated(data);
      break;
    case "K":
      meta.longLink = nulTerminated(data);
      break;
  }
}

/** Random access to an archive's bytes (a browser File or Blob; Node's fs.openAsBlob). */
export interface RandomAccess {
  readonly size: number;
  slice(
    start: number,
    end: number,
  ): { arrayBuffer(): Promise<ArrayBuffer>; stream(): ReadableStream<Uint8Array> };
}

/**
 * Reads only the headers of a tar held in a File or Blob, jumping over the data by offset, so the
 * entries' data can then be read independently (in parallel) with `slice`.
 */
export async function* readTarHeaders(
  file: RandomAccess,
  options: TarParserOptions & { signal?: AbortSignal } = {},
): AsyncGenerator<TarHeader> {
  const maxMeta = options.maxMetaBytes ?? 1 << 20;
  const read = async (at: number, n: number) => new Uint8Array(await file.slice(at, at + n).arrayBuffer());
  let meta: PendingMeta = {
    global: {},
    local: undefined,
    longName: undefined,
    longLink: undefined,
    start: undefined,
  };
  let off = 0;
  if (file.size === 0) throw new ArchiveError("empty input: not a tar archive", { offset: 0 });
  while (off < file.size) {
    throwIfAborted(options.signal, "reading the archive");
    if (off + BLOCK > file.size) {
      throw new ArchiveError("truncated tar archive: input ended inside a header", { offset: off });
    }
    const block = await read(off, BLOCK);
    if (isZeroBlock(block)) {
      if (meta.start !== undefined) {
        throw new ArchiveError("end of archive right after a PAX or long-name record", { offset: off });
      }
      if (off + 2 * BLOCK <= file.size && !isZeroBlock(await read(off + BLOCK, BLOCK))) {
        throw new ArchiveError("corrupt tar archive: a lone zero block before more entries", { offset: off });
      }
      return;
    }
    const raw = decodeHeader(block, off);
    const dataAt = off + BLOCK;
    const padded = Math.ceil(raw.size / BLOCK) * BLOCK;
    if (isMetaType(raw.typeflag)) {
      if (raw.size > maxMeta) {
        throw new ArchiveError(
          `tar meta record of ${raw.size} bytes exceeds the limit of ${maxMeta}`,
          { entry: raw.name, offset: off },
          "ARCHIVE_TOO_LARGE",
        );
      }
      if (dataAt + raw.size > file.size) {
        throw new ArchiveError("truncated tar archive: input ended inside an entry", {
          entry: raw.name,
          offset: file.size,
        });
      }
      meta.start ??= off;
      applyMeta(meta, raw, await read(dataAt, raw.size));
      off = dataAt + padded;
      continue;
    }
    const header = resolveHeader(raw, meta, meta.start ?? off, dataAt);
    meta = {
      global: meta.global,
      local: undefined,
      longName: undefined,
      longLink: undefined,
      start: undefined,
    };
    if (dataAt + header.size > file.size) {
      throw new ArchiveError("truncated tar archive: input ended inside an entry", {
        entry: header.name,
        offset: file.size,
      });
    }
    yield header;
    off = dataAt + Math.ceil(header.size / BLOCK) * BLOCK;
  }
}

const decoder = new TextDecoder();
function nulTerminated(data: Uint8Array): string {
  const nul = data.indexOf(0);
  return decoder.decode(nul >= 0 ? data.subarray(0, nul) : data);
}

/** One entry of a tar stream: its header and its data, which must be read before the next entry. */
export interface TarEntry {
  header: TarHeader;
  /** The entry's data; unread data is skipped when the reader moves on. */
  body: AsyncIterable<Uint8Array>;
}

type Event = { k: "entry"; h: TarHeader } | { k: "data"; d: Uint8Array } | { k: "end" };

/**
 * Reads a tar stream entry by entry without holding it in memory: each entry's body streams
 * straight from the source. Throws ArchiveError (naming the entry and offset) on corrupt or
 * truncated input.
 */
export async function* readTar(
  source: AsyncIterable<Uint8Array>,
  options: TarParserOptions & { signal?: AbortSignal } = {},
): AsyncGenerator<TarEntry> {
  const queue: Event[] = [];
  let head = 0;
  const parser = new TarParser(
    {
      entry: (h) => queue.push({ k: "entry", h }),
      data: (d) => queue.push({ k: "data", d }),
      entryEnd: () => queue.push({ k: "end" }),
    },
    options,
  );
  const it = source[Symbol.asyncIterator]();
  let done = false;
  const next = async (): Promise<Event | undefined> => {
    while (head === queue.length) {
      if (done || parser.ended) return undefined;
      queue.length = 0;
      head = 0;
      throwIfAborted(options.signal, "reading the archive");
      const r = await it.next();
      if (r.done) {
        done = true;
        parser.end();
      } else parser.push(r.value);
    }
    return queue[head++];
  };
  try {
    for (;;) {
      const ev = await next();
      if (ev === undefined) return;
      if (ev.k !== "entry") continue;
      let finished = false;
      const body: AsyncIterable<Uint8Array> = {
        async *[Symbol.asyncIterator]() {
          while (!finished) {
            const e = await next();
            if (e === undefined || e.k === "end") {
              finished = true;
              return;
            }
            if (e.k === "data") yield e.d;
          }
        },
      };
      yield { header: ev.h, body };
      while (!finished) {
        const e = await next();
        if (e === undefined || e.k === "end") finished = true;
      }
    }
  } finally {
    if (!done) await it.return?.();
  }
}

/** Reads an entry body fully into memory, refusing more than `limit` bytes. */
export async function readAll(
  body: AsyncIterable<Uint8Array>,
  limit: number,
  entry?: string,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of body) {
    n += c.byteLength;
    if (n > limit)
      throw new ArchiveError(`larger than the limit of ${limit} bytes`, { entry }, "ARCHIVE_TOO_LARGE");
    parts.push(c.slice());
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
