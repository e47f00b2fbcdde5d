import { describe, expect, it } from "vitest";
import { storeTestImage } from "../core/explore/shell-testing.ts";
import { openMemoryStore } from "../core/store/memory.ts";
import { WorkerCallError } from "./client.ts";
import { splitOutput } from "./handlers.ts";
import { connectInProcess } from "./in-process.ts";
import type { ShellOutput } from "./protocol.ts";

/** A client wired to the real handlers in-process, as the page is to the worker. */
function connect(store = openMemoryStore()) {
  return { client: connectInProcess(store), store };
}

describe("the container shell over the worker protocol", () => {
  it("creates a container, streams a command's output in pieces, and reports its changes", async () => {
    const { client, store } = connect();
    const image = await storeTestImage(store);
    const c = await client.call("container.create", { image });
    const info = await client.call("shell.open", { id: c.id });
    expect(info).toMatchObject({ user: "root", cwd: "/app", name: c.name, history: [] });
    const pieces: ShellOutput[] = [];
    const r = await client.call(
      "shell.exec",
      { id: c.id, line: "seq 1 100000 && echo hello > /app/new.txt && rm /app/README" },
      { onEvent: (e) => pieces.push(e as ShellOutput) },
    );
    expect(r.exitCode).toBe(0);
    expect(r.container.added).toBe(1);
    expect(pieces.length).toBeGreaterThan(5);
    expect(pieces.every((p) => p.text.length <= 64 * 1024 && p.text.endsWith("\n"))).toBe(true);
    const all = pieces.map((p) => p.text).join("");
    expect(all.split("\n").length).toBe(100001);
    expect(all.endsWith("99999\n100000\n")).toBe(true);
    expect(await client.call("container.diff", { id: c.id })).toEqual({
      changes: [
        { kind: "C", path: "/app" },
        { kind: "D", path: "/app/README" },
        { kind: "A", path: "/app/new.txt" },
      ],
      total: 3,
    });
    // A view asks for the first lines only; the total still counts every line.
    expect(await client.call("container.diff", { id: c.id, limit: 2 })).toEqual({
      changes: [
        { kind: "C", path: "/app" },
        { kind: "D", path: "/app/README" },
      ],
      total: 3,
    });
    const tree = await client.call("container.tree", { id: c.id });
    expect(tree.names).toContain("new.txt");
    expect((await client.call("shell.complete", { id: c.id, before: "cat /app/ne" })).common).toBe("w.txt");
  });

  it("stop refuses commands until start; a UI edit is seen by the shell", async () => {
    const { client, store } = connect();
    const image = await storeTestImage(store);
    const c = await client.call("container.create", { image });
    await client.call("shell.exec", { id: c.id, line: "true" });
    await client.call("container.apply", {
      id: c.id,
      op: { kind: "write", path: "/app/ui.txt", text: "ui" },
    });
    const pieces: string[] = [];
    await client.call(
      "shell.exec",
      { id: c.id, line: "cat /app/ui.txt" },
      { onEvent: (e) => pieces.push((e as ShellOutput).text) },
    );
    expect(pieces.join("")).toBe("ui");
    expect((await client.call("container.stop", { id: c.id })).state).toBe("exited");
    const err = await client.call("shell.exec", { id: c.id, line: "ls" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerCallError);
    expect((err as Error).message).toMatch(/not running/);
    expect((await client.call("container.start", { id: c.id })).state).toBe("running");
  });

  it("splits output at line ends into pieces of at most 64 KiB", () => {
    const text = "x".repeat(100).concat("\n").repeat(2000);
    const parts = splitOutput(text);
    expect(parts.join("")).toBe(text);
    expect(parts.every((p) => p.length <= 65536 && p.endsWith("\n"))).toBe(true);
    expect(splitOutput("y".repeat(70000))).toEqual(["y".repeat(65536), "y".repeat(70000 - 65536)]);
  });
});

describe("Ctrl+C", () => {
  it("cancels a running command between its steps; what it wrote so far stays in the layer", async () => {
    const { client, store } = connect();
    const image = await storeTestImage(store);
    const c = await client.call("container.create", { image });
    const ctl = new AbortController();
    const running = client.call(
      "shell.exec",
      { id: c.id, line: "for i in $(seq 1 300000); do echo $i > /tmp/count; done" },
      { signal: ctl.signal },
    );
    // Ctrl+C once the loop has written (the file shows in the layer while the command runs).
    for (;;) {
      const seen = await client
        .call("container.file", { id: c.id, path: "/tmp/count" })
        .catch(() => undefined);
      if (seen) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    ctl.abort();
    const outcome = await running.then(
      (r) => r.exitCode,
      (e: unknown) => (e as WorkerCallError).code,
    );
    expect(outcome).toBe(130);
    const after = await client.call("container.file", { id: c.id, path: "/tmp/count" });
    // Stopped part way: the last number written (or the file just truncated by the redirection).
    const n = Number(new TextDecoder().decode(after.bytes));
    expect(n).toBeLessThan(300000);
  });
});
