// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Dockerfile words, where ${VAR} is literal.
import { describe, expect, it } from "vitest";
import type { Range } from "../errors.ts";
import { mountFrom, parseRunDevice, parseRunMount, splitCsv } from "./run-mount.ts";
import { envFromMap, expandWord } from "./shell.ts";

const at: Range = { start: { line: 3, column: 5 }, end: { line: 3, column: 9 } };
const env = envFromMap({ DIR: "/cache", COMMA: "/c,type=tmpfs", T: "cache" });
const expand = (w: string) => expandWord(w, env);

describe("parseRunMount", () => {
  it("expands each option value on its own: a value with a comma stays one value", () => {
    const m = parseRunMount("type=$T,target=${DIR},id=x", at, expand);
    expect(m).toMatchObject({ type: "cache", target: "/cache", id: "x", readOnly: false });
    expect(parseRunMount("target=$COMMA", at, expand)).toMatchObject({
      type: "bind",
      target: "/c,type=tmpfs",
      readOnly: true,
    });
  });

  it("reads CSV quoting as Go's encoding/csv does", () => {
    expect(splitCsv('type=bind,"target=/a,b",ro', at, "mounts")).toEqual(["type=bind", "target=/a,b", "ro"]);
    expect(() => splitCsv('"target=/a', at, "mounts")).toThrow(/failed to parse csv mounts/);
  });

  it("refuses what BuildKit refuses, at the given range", () => {
    const cases: [string, RegExp][] = [
      ["type=nope,target=/x", /unsupported mount type "nope"/],
      ["$OPTS,target=/x", /invalid field '\$OPTS' must be a key=value pair/],
      ["target=/x,ro=maybe", /invalid value for ro: maybe/],
      ["target=/x,mode=0755", /mode not allowed for "bind" type mounts/],
      ["type=cache,target=/x,sharing=nope", /unsupported sharing value "nope"/],
      ["type=secret,id=a,source=b", /both source and id can't be set/],
      ["type=cache,target=/x,colour=red", /unexpected key 'colour'/],
      ["type=cache", /mount target is not set/],
      ["target=/", /invalid mount target "\/"/],
    ];
    for (const [spec, re] of cases) {
      expect(() => parseRunMount(spec, at, expand), spec).toThrow(re);
      try {
        parseRunMount(spec, at, expand);
      } catch (e) {
        expect((e as { range: Range }).range).toEqual(at);
      }
    }
  });

  it("at parse time checks only the CSV and a variable in from", () => {
    expect(parseRunMount("type=nope,$OPTS", at)).toBeUndefined();
    expect(() => parseRunMount("from=$STAGE,target=/x", at)).toThrow(
      /'from' doesn't support variable expansion/,
    );
    expect(mountFrom("type=bind,FROM=build,target=/x")).toBe("build");
    expect(mountFrom("type=cache,target=/x")).toBe("");
  });
});

describe("parseRunDevice", () => {
  it("takes a bare name, name=, and required", () => {
    expect(parseRunDevice("vendor.com/gpu=0", at)).toEqual({ name: "vendor.com/gpu=0", required: false });
    expect(parseRunDevice("name=gpu,required", at)).toEqual({ name: "gpu", required: true });
    expect(parseRunDevice("gpu,required=false", at)).toEqual({ name: "gpu", required: false });
  });
  it("refuses a second name and a bad boolean", () => {
    expect(() => parseRunDevice("name=a,name=b", at)).toThrow(/device name already set to a/);
    expect(() => parseRunDevice("a,b", at)).toThrow(/invalid field 'b' must be a key=value pair/);
    expect(() => parseRunDevice("a,required=perhaps", at)).toThrow(/invalid value for required: perhaps/);
  });
});
