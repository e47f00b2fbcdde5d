/**
 * `ls -l` with the real modes, owners and link targets of the layer (just-bash's own `ls -l` prints
 * fixed permissions and owner "user"); every other use of ls goes to just-bash's ls.
 */
import { type CustomCommand, defineCommand } from "just-bash";
import type { BashFs } from "../bash-fs.ts";
import type { FsNode } from "../layer-fs.ts";

function permissions(n: FsNode): string {
  const t =
    n.type === "dir"
      ? "d"
      : n.type === "symlink"
        ? "l"
        : n.type === "char"
          ? "c"
          : n.type === "block"
            ? "b"
            : n.type === "fifo"
              ? "p"
              : "-";
  const m = n.mode;
  const bit = (mask: number, c: string) => (m & mask ? c : "-");
  const exec = (x: number, special: number, on: string, off: string) =>
    m & special ? (m & x ? on : off) : m & x ? "x" : "-";
  return (
    t +
    bit(0o400, "r") +
    bit(0o200, "w") +
    exec(0o100, 0o4000, "s", "S") +
    bit(0o40, "r") +
    bit(0o20, "w") +
    exec(0o10, 0o2000, "s", "S") +
    bit(0o4, "r") +
    bit(0o2, "w") +
    exec(0o1, 0o1000, "t", "T")
  );
}

function when(mtime: number): string {
  const d = new Date(mtime * 1000);
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  return `${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)}  ${d.getUTCFullYear()}`;
}

/** ls, with -l handled here (plus -a, -A, -d, -h, -n combined with it). */
export function lsCommand(bfs: BashFs): CustomCommand {
  return defineCommand("ls", async (args, ctx) => {
    const flags = new Set<string>();
    const paths: string[] = [];
    for (const a of args) {
      if (a.startsWith("-") && a.length > 1 && !a.startsWith("--")) for (const c of a.slice(1)) flags.add(c);
      else paths.push(a);
    }
    const supported = [...flags].every((f) => "laAdhn1".includes(f));
    if (!flags.has("l") || !supported || args.some((a) => a.startsWith("--"))) {
      if (ctx.origCommand) return ctx.origCommand(args);
      return { stdout: "", stderr: "ls: unsupported\n", exitCode: 2 };
    }
    const names = async (file: string) => {
      try {
        const rows = (await bfs.readFile(file)).split("\n").map((l) => l.split(":"));
        return (id: number) =>
          flags.has("n") ? String(id) : (rows.find((r) => r[2] === String(id))?.[0] ?? String(id));
      } catch {
        return (id: number) => String(id);
      }
    };
    const user = await names("/etc/passwd");
    const group = await names("/etc/group");
    const size = (n: number) => {
      if (!flags.has("h") || n < 1024) return String(n);
      const units = ["K", "M", "G", "T"];
      let v = n;
      let u = -1;
      while (v >= 1024 && u < units.length - 1) {
        v /= 1024;
        u++;
      }
      return `${v < 10 ? v.toFixed(1) : Math.round(v)}${units[u]}`;
    };
    const line = (name: string, n: FsNode) =>
      `${permissions(n)} 1 ${user(n.uid).padEnd(8)} ${group(n.gid).padEnd(8)} ${size(n.type === "symlink" ? (n.target ?? "").length : n.size).padStart(8)} ${when(n.mtime)} ${name}${n.type === "symlink" ? ` -> ${n.target ?? ""}` : ""}`;
    let out = "";
    let err = "";
    let code = 0;
    const targets = paths.length > 0 ? paths : ["."];
    for (const p of targets) {
      const abs = bfs.resolvePath(ctx.cwd, p);
      let node: FsNode | undefined;
      let real = "";
      try {
        const r = bfs.fs.resolve(abs.replace(/^\/+/, ""), false);
        node = r.node;
        real = r.path;
        if (node?.type === "symlink" && !flags.has("d")) {
          const f = bfs.fs.resolve(abs.replace(/^\/+/, ""), true);
          if (f.node?.type === "dir") {
            node = f.node;
            real = f.path;
          }
        }
      } catch {
        node = undefined;
      }
      if (!node) {
        err += `ls: cannot access '${p}': No such file or directory\n`;
        code = 2;
        continue;
      }
      if (node.type !== "dir" || flags.has("d")) {
        out += `${line(p, node)}\n`;
        continue;
      }
      if (targets.length > 1) out += `${p}:\n`;
      const kids = bfs.fs.childrenOf(real);
      const shown: [string, FsNode][] = [];
      if (flags.has("a")) {
        shown.push([".", node]);
        const parent = bfs.fs.nodeAt(real.includes("/") ? real.slice(0, real.lastIndexOf("/")) : "");
        if (parent) shown.push(["..", parent]);
      }
      for (const k of kids) {
        if (!flags.has("a") && !flags.has("A") && k.startsWith(".")) continue;
        const n = bfs.fs.nodeAt(real === "" ? k : `${real}/${k}`);
        if (n) shown.push([k, n]);
      }
      const blocks = shown.reduce((t, [, n]) => t + Math.ceil((n.type === "file" ? n.size : 0) / 1024), 0);
      out += `total ${blocks}\n`;
      for (const [k, n] of shown) out += `${line(k, n)}\n`;
    }
    return { stdout: out, stderr: err, exitCode: code };
  });
}
