/**
 * Writes JSON as `JSON.stringify(value, null, 2)` would, in pieces of about 64 KiB, so a large
 * document (`inspect --json` of an image with 50,000 files: 24 MB) is never one string, and parts
 * of it can be produced while it is written: a `lazyArray` asks for each item only when the writer
 * reaches it, so the caller can describe a layer, have it written, and drop it.
 */

const LAZY = Symbol("lazyArray");

/** An array whose items are made one at a time as the writer reaches them. */
export interface LazyArray {
  readonly [LAZY]: true;
  /** The number of items, asked when the writer reaches the array. */
  count(): number;
  item(i: number): Promise<unknown>;
  /** Leave the key out of its object (as for undefined) when the array is empty. */
  omitWhenEmpty: boolean;
}

/** An array of `count` items made by `item(i)` when written (see LazyArray). */
export function lazyArray(
  count: number | (() => number),
  item: (i: number) => Promise<unknown>,
  options: { omitWhenEmpty?: boolean } = {},
): LazyArray {
  return {
    [LAZY]: true,
    count: typeof count === "number" ? () => count : count,
    item,
    omitWhenEmpty: options.omitWhenEmpty ?? false,
  };
}

function isLazy(v: unknown): v is LazyArray {
  return typeof v === "object" && v !== null && LAZY in v;
}

/** An object whose keys may hold lazy arrays (not an array, and without its own toJSON). */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !("toJSON" in v);
}

/** Whether JSON.stringify leaves a value out of an object (and writes null for it in an array). */
function skipped(v: unknown): boolean {
  return v === undefined || typeof v === "function" || typeof v === "symbol";
}

const FLUSH_AT = 1 << 16;

/** Writes JSON values to `sink` in pieces; call `end` to flush the rest. */
export class JsonWriter {
  private parts: string[] = [];
  private length = 0;

  constructor(private readonly sink: (text: string) => void) {}

  /** Writes one value, indented by two spaces a level, as JSON.stringify(value, null, 2). */
  async write(value: unknown, indent = ""): Promise<void> {
    if (isLazy(value)) {
      const n = value.count();
      if (n === 0) return this.put("[]");
      const inner = `${indent}  `;
      this.put("[\n");
      for (let i = 0; i < n; i++) {
        if (i > 0) this.put(",\n");
        this.put(inner);
        const item = await value.item(i);
        await this.write(skipped(item) ? null : item, inner);
      }
      return this.put(`\n${indent}]`);
    }
    if (!isPlainObject(value)) return this.writePlain(value, indent);
    // An object may hold lazy arrays: its keys are written one by one.
    const inner = `${indent}  `;
    let first = true;
    for (const [key, v] of Object.entries(value)) {
      if (skipped(v) || (isLazy(v) && v.omitWhenEmpty && v.count() === 0)) continue;
      this.put(first ? "{\n" : ",\n");
      first = false;
      this.put(`${inner}${JSON.stringify(key)}: `);
      await this.write(v, inner);
    }
    this.put(first ? "{}" : `\n${indent}}`);
  }

  /**
   * A value without lazy arrays, written synchronously: an array item by item (the file list of
   * a large layer is the one big array), anything else by JSON.stringify, re-indented (a JSON text
   * has no raw newline except between its tokens).
   */
  private writePlain(value: unknown, indent: string): void {
    if (Array.isArray(value) && value.length > 0) {
      const inner = `${indent}  `;
      this.put("[\n");
      for (let i = 0; i < value.length; i++) {
        if (i > 0) this.put(",\n");
        this.put(inner);
        const item = value[i];
        this.writePlain(skipped(item) ? null : item, inner);
      }
      this.put(`\n${indent}]`);
      return;
    }
    const text = JSON.stringify(value, null, 2) ?? "null";
    this.put(indent && text.includes("\n") ? text.replaceAll("\n", `\n${indent}`) : text);
  }

  /** Writes `tail` and everything not yet written. */
  end(tail = ""): void {
    this.put(tail);
    this.flush();
  }

  private put(text: string): void {
    this.parts.push(text);
    this.length += text.length;
    if (this.length >= FLUSH_AT) this.flush();
  }

  private flush(): void {
    if (this.parts.length === 0) return;
    this.sink(this.parts.join(""));
    this.parts = [];
    this.length = 0;
  }
}
