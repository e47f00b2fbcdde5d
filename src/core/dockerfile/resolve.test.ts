// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Dockerfile text, where ${VAR} is literal.
import { describe, expect, it } from "vitest";
import { DockerfileError } from "../errors.ts";
import { buildStages, parseOnbuildTrigger } from "./instructions.ts";
import { parseDockerfile } from "./parser.ts";
import { expandHeredocBody, expandInstruction, type ResolveOptions, resolveDockerfile } from "./resolve.ts";
import { envFromMap } from "./shell.ts";

const resolve = (src: string, opts?: ResolveOptions) =>
  resolveDockerfile(buildStages(parseDockerfile(src)), opts);

describe("ARG and ENV scoping (BuildKit's dockerfile2llb)", () => {
  it("global ARGs: in order, defaults expanded, build args win unexpanded, FROM sees only globals", () => {
    const r = resolve('ARG a1=x\nARG a2=$a1-y\nARG a3="$a2-foo"\nFROM img:${a3}\nENV a1=stage\n', {});
    expect(r.globalArgs.get("a3")).toBe("x-y-foo");
    expect(r.stages[0]!.baseName).toBe("img:x-y-foo");
    const b = resolve("ARG V=1\nFROM img:$V\n", { buildArgs: { V: "$NOT_EXPANDED" } });
    expect(b.stages[0]!.baseName).toBe("img:$NOT_EXPANDED");
  });

  it("global ARGs are invisible in a stage until `ARG NAME` declares them", () => {
    const r = resolve("ARG VERSION=1.2\nFROM a\nWORKDIR /x\nARG VERSION\nWORKDIR /y\n");
    const [before, after] = r.stages[0]!.steps.filter((s) => s.instruction.kind === "workdir");
    expect(before!.env.get("VERSION")).toBeUndefined();
    expect(after!.env.get("VERSION")).toBe("1.2");
    expect(r.stages[0]!.steps[0]!.env.get("TARGETSTAGE")).toBeUndefined();
  });

  it("ENV and ARG write one environment: the later definition wins; a bare ARG keeps the ENV", () => {
    const r = resolve("FROM a\nENV X=env\nARG X=arg\nARG Y\nENV Y=envy\nARG Y\nRUN true\n");
    const last = r.stages[0]!.steps.at(-1)!.env;
    expect(last.get("X")).toBe("arg");
    expect(last.get("Y")).toBe("envy");
    expect(last.toPairs()).toEqual([
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "X=arg",
      "Y=envy",
    ]);
  });

  it("an ARG without value is not set; ARG with empty value is", () => {
    const env = resolve("FROM a\nARG FOO\nARG BAR=\nRUN x\n").stages[0]!.steps.at(-1)!.env;
    expect(env.has("FOO")).toBe(false);
    expect(env.get("BAR")).toBe("");
  });

  it("assignments in one ENV see the environment before it", () => {
    const env = resolve('FROM a\nENV abc=hi\nENV abc=bye def=$abc\nENV q="x y"\nRUN x\n').stages[0]!.steps.at(
      -1,
    )!.env;
    expect(env.get("def")).toBe("hi");
    expect(env.get("q")).toBe("x y");
  });

  it("a build arg skips the default expression entirely", () => {
    const src = 'FROM a\nARG FOO\nARG BAR=${FOO:?"foo missing"}\n';
    expect(() => resolve(src)).toThrow(/FOO: foo missing/);
    expect(() => resolve(src, { buildArgs: { BAR: "x" } })).not.toThrow();
  });

  it("default-with-modifiers from the BuildKit tests", () => {
    const src = 'FROM a\nARG my_arg\nENV my_arg "my_arg=${my_arg:-def_val}"\nENV t "${my_arg%%e*}"\nRUN x\n';
    expect(resolve(src).stages[0]!.steps.at(-1)!.env.get("my_arg")).toBe("my_arg=def_val");
    expect(
      resolve(src, { buildArgs: { my_arg: "" } })
        .stages[0]!.steps.at(-1)!
        .env.get("my_arg"),
    ).toBe("my_arg=def_val");
    expect(resolve(src).stages[0]!.steps.at(-1)!.env.get("t")).toBe("my_arg=d");
  });

  it("a stage built on an earlier stage inherits its environment and declared ARGs", () => {
    const r = resolve("FROM a AS base\nENV A=1\nARG B=2\nFROM base\nRUN x\n");
    expect(r.stages[1]!.baseStage).toBe(0);
    expect(r.stages[1]!.steps[0]!.env.get("A")).toBe("1");
    expect(r.stages[1]!.steps[0]!.env.get("B")).toBe("2");
  });

  it("a base image's Env seeds the stage; PATH is added when missing", () => {
    const r = resolve("FROM node\nRUN x\n", { imageEnv: () => ["NODE_VERSION=20", "PATH=/x"] });
    expect(r.stages[0]!.steps[0]!.env.toPairs()).toEqual(["NODE_VERSION=20", "PATH=/x"]);
  });

  it("unresolvable FROM and ARG are DockerfileErrors at their line", () => {
    const blank = () => resolve("ARG BLANK\nFROM ${BLANK}\n");
    expect(blank).toThrow(DockerfileError);
    expect(blank).toThrow(/line 2, column 1: base name \(\$\{BLANK\}\) should not be blank/);
    expect(() => resolve('FROM ""\n')).toThrow(/should not be blank/);
    expect(() => resolve("FROM ${X:?needs_X}\n")).toThrow(/X: needs_X/);
  });

  it("COPY --from: no variables, and stages must come earlier", () => {
    expect(() => resolve("FROM a\nARG S=x\nCOPY --from=$S a b\n")).toThrow(
      /variable expansion is not supported for --from/,
    );
    expect(() => resolve("FROM a\nCOPY --from=later a b\nFROM b AS later\n")).toThrow(
      /needs to be defined before/,
    );
    expect(() => resolve("FROM a\nCOPY --from=1 a b\nFROM b\n")).toThrow(/invalid stage index/);
    expect(() =>
      resolve("FROM a AS one\nFROM b\nCOPY --from=ONE a b\nCOPY --from=0 a b\nCOPY --from=alpine a b\n"),
    ).not.toThrow();
  });
});

describe("expandInstruction: what the builder expands", () => {
  const steps = resolve(
    'FROM a\nARG PORTS="3000 4000/udp"\nARG D=/srv\nEXPOSE $PORTS 80\nCOPY --chown=${U:-app} src/$MISSING ${D}/\nRUN echo $D\nCMD echo $D\nWORKDIR $D/x\n',
  ).stages[0]!.steps;
  const exp = (i: number) => expandInstruction(steps[i]!.instruction, steps[i]!.env);
  it("EXPOSE is word-split", () => {
    expect(exp(2).list).toEqual(["3000", "4000/udp", "80"]);
  });
  it("COPY sources, destination and --chown are expanded; unmatched names are reported", () => {
    const e = exp(3);
    expect(e.sources).toEqual(["src/"]);
    expect(e.dest).toBe("/srv/");
    expect(e.chown).toBe("app");
    expect([...e.unmatched]).toEqual(["MISSING"]);
  });
  it("RUN and CMD commands are not expanded", () => {
    expect(exp(4).mounts).toEqual([]);
    expect(exp(5)).toEqual({ unmatched: new Set() });
  });
  it("WORKDIR is expanded", () => {
    expect(exp(6).value).toBe("/srv/x");
  });
  it("the Dockerfile's escape token is used", () => {
    const r = resolve('# escape=`\nFROM a\nENV P="C:\\dir `$HOME"\nRUN x\n');
    expect(r.stages[0]!.steps.at(-1)!.env.get("P")).toBe("C:\\dir $HOME");
  });
});

describe("heredoc bodies and ONBUILD triggers", () => {
  it("COPY heredoc bodies expand with quotes kept (testHeredocVarSubstitution)", () => {
    const env = envFromMap({ name: "world" });
    expect(expandHeredocBody("Hello ${name}!\n", env)).toBe("Hello world!\n");
    expect(expandHeredocBody("Hello '${name}'!\n", env)).toBe("Hello 'world'!\n");
    expect(expandHeredocBody('say "\\$name"\n', env)).toBe('say "$name"\n');
  });
  it("an ONBUILD trigger re-parses to a typed instruction", () => {
    const df = buildStages(parseDockerfile("FROM a\nONBUILD COPY --from=src <<EOF /x\nhi\nEOF\n"));
    const onbuild = df.stages[0]!.instructions[0]!;
    expect(onbuild.kind).toBe("onbuild");
    if (onbuild.kind !== "onbuild") return;
    expect(onbuild.expression).toBe("COPY --from=src <<EOF /x\nhi\nEOF");
    expect(parseOnbuildTrigger(onbuild.expression)).toMatchObject({
      kind: "copy",
      from: "src",
      heredocSources: [{ name: "EOF", data: "hi\n", expand: true }],
      dest: "/x",
    });
  });
});
