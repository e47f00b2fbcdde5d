import { describe, expect, it } from "vitest";
import { parseArgs } from "./command.ts";
import { commands } from "./commands/index.ts";
import { cli } from "./testing.ts";

describe("layerlab command line", () => {
  it("prints its version", async () => {
    const r = await cli("--version");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^layerlab \d+\.\d+\.\d+\n$/);
  });
  it("--version loads no command's code; a command loads only its own", async () => {
    const loaded: string[] = [];
    const saved = commands.map((c) => c.load);
    commands.forEach((c, i) => {
      c.load = () => {
        loaded.push(c.name);
        return saved[i]!();
      };
    });
    try {
      expect((await cli("--version")).code).toBe(0);
      expect(loaded).toEqual([]);
      expect((await cli("parse")).code).toBe(2);
      expect(loaded).toEqual(["parse"]);
    } finally {
      commands.forEach((c, i) => {
        c.load = saved[i]!;
      });
    }
  });
  it("help lists the commands and exits 0", async () => {
    const r = await cli("help");
    expect(r.code).toBe(0);
    expect(r.out).toContain("usage: layerlab <command>");
    expect(r.out).toContain("help");
  });
  it("an unknown command exits 2 and says so", async () => {
    const r = await cli("frobnicate");
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown command 'frobnicate'");
  });
  it("parses flags, repeated flags and positionals", () => {
    const p = parseArgs(["-t", "a:1", "--build-arg", "X=1", "--build-arg=Y=2", "--no-cache", "ctx"], {
      flags: ["tag"],
      multi: ["build-arg"],
      bools: ["no-cache"],
      short: { "-t": "tag" },
    });
    expect(p.flags.get("tag")).toEqual(["a:1"]);
    expect(p.flags.get("build-arg")).toEqual(["X=1", "Y=2"]);
    expect(p.bools.has("no-cache")).toBe(true);
    expect(p.positional).toEqual(["ctx"]);
    expect(() => parseArgs(["--nope"], {})).toThrow(/unknown option --nope/);
  });
});
