// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Dockerfile text, where ${VAR} is literal.
import { describe, expect, it } from "vitest";
import { DockerfileError } from "../errors.ts";
import { dumpAst } from "./dump.ts";
import { parseDockerfile, parseHeredocWord, parseWords } from "./parser.ts";

function heredocs(src: string) {
  return parseDockerfile(src).instructions.map((n) => n.heredocs.map((h) => ({ ...h })));
}

function errorOf(fn: () => unknown): DockerfileError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DockerfileError) return e;
    throw e;
  }
  throw new Error("expected a DockerfileError");
}

describe("heredocs (BuildKit parser_heredoc_test expectations)", () => {
  it("reads names, bodies, fd, chomp and expand", () => {
    const src = [
      "FROM busybox",
      "USER <<INVALID",
      "INVALID",
      "RUN <<EMPTY",
      "EMPTY",
      "RUN 3<<EMPTY2",
      "EMPTY2",
      'RUN "<<NOHEREDOC"',
      "RUN <<INDENT",
      "\tfoo",
      "\tbar",
      "INDENT",
      "RUN <<-UNINDENT",
      "\tbaz",
      "\tquux",
      "UNINDENT",
      "RUN <<-UNINDENT2",
      "\tbaz",
      "\tUNINDENT2",
      "RUN <<-'NOEXPAND'",
      "x",
      "NOEXPAND",
      "RUN --mount=type=cache,target=/foo <<MOUNT",
      "MOUNT",
      "COPY <<FILE1 <<FILE2 /dest",
      "content 1",
      "FILE1",
      "content 2",
      "FILE2",
      "COPY <<X <<Y /dest",
      "Y",
      "X",
      "X",
      "Y",
      "RUN <<COMPLEX python3",
      "print(1)",
      "COMPLEX",
      'RUN ["<<EOF"]',
      "",
    ].join("\n");
    const ast = parseDockerfile(src);
    const k = ast.instructions.map((n) => n.keyword);
    expect(k).toEqual([
      "from",
      "user",
      "invalid",
      "run",
      "run",
      "run",
      "run",
      "run",
      "run",
      "run",
      "run",
      "copy",
      "copy",
      "run",
      "run",
    ]);
    const h = heredocs(src);
    expect(h[1]).toEqual([]);
    expect(h[3]).toEqual([{ name: "EMPTY", fileDescriptor: 0, expand: true, chomp: false, content: "" }]);
    expect(h[4]![0]!.fileDescriptor).toBe(3);
    expect(h[5]).toEqual([]);
    expect(h[6]![0]!.content).toBe("\tfoo\n\tbar\n");
    expect(h[7]![0]).toMatchObject({ name: "UNINDENT", chomp: true, content: "\tbaz\n\tquux\n" });
    expect(h[8]![0]).toMatchObject({ name: "UNINDENT2", chomp: true, content: "\tbaz\n" });
    expect(h[9]![0]).toMatchObject({ name: "NOEXPAND", expand: false });
    expect(h[10]![0]!.name).toBe("MOUNT");
    expect(ast.instructions[10]!.flags).toEqual(["--mount=type=cache,target=/foo"]);
    expect(h[11]!.map((d) => [d.name, d.content])).toEqual([
      ["FILE1", "content 1\n"],
      ["FILE2", "content 2\n"],
    ]);
    expect(h[12]!.map((d) => [d.name, d.content])).toEqual([
      ["X", "Y\n"],
      ["Y", "X\n"],
    ]);
    expect(h[13]![0]!.name).toBe("COMPLEX");
    expect(h[14]).toEqual([]);
    expect(dumpAst(ast).split("\n")[11]).toBe('(copy "<<FILE1" "<<FILE2" "/dest")');
  });

  it.each([
    ["<<file.txt", "file.txt", true],
    ["<<eo'f'", "eof", false],
    ["<<eo\\'f", "eo'f", true],
    ["<<'e'o\\'f", "eo'f", false],
    ["<<'one two'", "one two", false],
    ["<<$EOF", "$EOF", true],
    ['<<"EOF"', "EOF", false],
    ["<<-EOF", "EOF", true],
    ['<<EO"F"', "EOF", false],
    ["<< EOF", "EOF", true],
    ["<<- EOF", "EOF", true],
  ])("%s is heredoc %s (expand %s)", (word, name, expand) => {
    expect(parseHeredocWord(word)).toMatchObject({ name, expand });
  });

  it.each(['""', "EOF", "<<", "<<-", "<EOF", "<<<EOF", "<<EOF sh"])("%s is not a heredoc", (word) => {
    expect(parseHeredocWord(word)).toBeUndefined();
  });

  it("glues `<<` to the next word across spaces", () => {
    const h = heredocs("FROM a\nRUN <<  EOF  > foo\nbody\nEOF\n");
    expect(h[1]!.map((d) => d.name)).toEqual(["EOF"]);
  });

  it("an unterminated heredoc is an error at the instruction", () => {
    const e = errorOf(() => parseDockerfile("FROM a\nRUN <<EOF\necho hi\n"));
    expect(e.message).toMatch(/unterminated heredoc/);
    expect(e.range.start).toEqual({ line: 2, column: 1 });
  });
});

describe("parseWords (ARG, and ENV/LABEL form detection)", () => {
  it("keeps quotes and escapes", () => {
    expect(parseWords("foo\\ bar", 0x5c)).toEqual(["foo\\ bar"]);
    expect(parseWords("foo bar 'abc xyz'", 0x5c)).toEqual(["foo", "bar", "'abc xyz'"]);
    expect(parseWords('a "" b', 0x5c)).toEqual(["a", '""', "b"]);
    expect(parseWords("a\\", 0x5c)).toEqual(["a"]);
  });
});

describe("JSON form", () => {
  it("accepts empty, padded and tabbed arrays", () => {
    expect(dumpAst(parseDockerfile('CMD []\nCMD [""]\nCMD \t[ "a" ,\t"b" ]\n'))).toBe(
      '(cmd)\n(cmd "")\n(cmd "a" "b")\n',
    );
  });
  it.each(["[1]", '["a", 1]', '["a", {}]', '["a", ["b"]]', '["a", true]', '["a", null]'])(
    "CMD %s is an error: arrays must be strings",
    (json) => {
      const e = errorOf(() => parseDockerfile(`FROM a\nCMD ${json}\n`));
      expect(e.message).toMatch(/arrays must be comprised of strings only/);
      expect(e.range.start.line).toBe(2);
    },
  );
  it("suggests the array with every element quoted", () => {
    const e = errorOf(() => parseDockerfile('FROM a\nEXPOSE 1\nCMD ["sleep", 10]\n'));
    expect(e.suggestion).toBe('["sleep", "10"]');
    expect(e.range.start).toEqual({ line: 3, column: 1 });
  });
  it("invalid JSON falls back to shell form", () => {
    expect(dumpAst(parseDockerfile("CMD ['a','b']\nRUN [\"a\"\n"))).toBe(
      '(cmd "[\'a\',\'b\']")\n(run "[\\"a\\"")\n',
    );
  });
});

describe("lines, directives and ranges", () => {
  it("an escaped escape at the end is not a continuation", () => {
    expect(dumpAst(parseDockerfile("RUN foo\\\\\nRUN bar\n"))).toBe('(run "foo\\\\\\\\")\n(run "bar")\n');
  });
  it("backtick escape: continuation with ` and backslashes literal", () => {
    const src =
      "# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir c:\\ `\n  && echo done\nCOPY a\\b c:\\dest\\\n";
    const ast = parseDockerfile(src);
    expect(ast.escapeToken).toBe("`");
    expect(ast.directives).toMatchObject([{ name: "escape", value: "`" }]);
    expect(dumpAst(ast)).toBe(
      '(from "mcr.microsoft.com/windows")\n(run "dir c:\\\\   && echo done")\n(copy "a\\\\b" "c:\\\\dest\\\\")\n',
    );
  });
  it("a repeated directive is an error; an unknown one ends the directive block", () => {
    expect(() => parseDockerfile("# escape=`\n# escape=\\\nFROM a\n")).toThrow(/only one escape/);
    const ast = parseDockerfile("# foo=bar\n# escape=`\nFROM a\nRUN x \\\n y\n");
    expect(ast.escapeToken).toBe("\\");
    expect(ast.directives).toEqual([]);
  });
  it("an invalid escape token is an error", () => {
    expect(() => parseDockerfile("# escape=x\nFROM a\n")).toThrow(/invalid escape token/);
  });
  it("records syntax and check directives", () => {
    const ast = parseDockerfile("# syntax=docker/dockerfile:1\n# check=skip=JSONArgsRecommended\nFROM a\n");
    expect(ast.directives.map((d) => [d.name, d.value])).toEqual([
      ["syntax", "docker/dockerfile:1"],
      ["check", "skip=JSONArgsRecommended"],
    ]);
  });
  it("ranges start at the keyword and end after the last consumed line", () => {
    const ast = parseDockerfile("FROM a\n  RUN echo \\\n    hi\n");
    expect(ast.instructions[1]!.range).toEqual({
      start: { line: 2, column: 3 },
      end: { line: 3, column: 7 },
    });
  });
  it("warns about empty continuation lines", () => {
    const ast = parseDockerfile("FROM a\nRUN a \\\n\n b\n");
    expect(ast.warnings).toMatchObject([{ rule: "NoEmptyContinuation", range: { start: { line: 2 } } }]);
  });
  it("a physical line over 64 KiB is an error", () => {
    expect(() => parseDockerfile(`FROM a\nRUN ${"x".repeat(70000)}\n`)).toThrow(/max allowed size/);
  });
  it("a BOM at the start is dropped", () => {
    expect(dumpAst(parseDockerfile("\ufeffFROM a\n"))).toBe('(from "a")\n');
  });
  it("CRLF line endings are stripped", () => {
    expect(dumpAst(parseDockerfile("FROM a\r\nRUN b \\\r\n c\r\n"))).toBe('(from "a")\n(run "b  c")\n');
  });
  it("empty input and only comments are errors", () => {
    expect(() => parseDockerfile("")).toThrow(/file with no instructions/);
    expect(() => parseDockerfile("# hi\n\n")).toThrow(/file with no instructions/);
  });
});

describe("argument shapes", () => {
  it("unknown keywords keep one empty argument; keywords are case-insensitive", () => {
    expect(dumpAst(parseDockerfile("FOO bar baz\nRuN x\nENV\nONBUILD\nARG\nCOPY\n"))).toBe(
      '(foo "")\n(run "x")\n(env)\n(onbuild)\n(arg)\n(copy)\n',
    );
  });
  it("ENV legacy form keeps the rest verbatim; new form keeps quotes", () => {
    expect(dumpAst(parseDockerfile('ENV A  b  c\nLABEL "k"="v w" x=\n'))).toBe(
      '(env "A" "b  c" "")\n(label "\\"k\\"" "\\"v w\\"" "=" "x" "" "=")\n',
    );
  });
  it("flags are scanned as bytes, as BuildKit does (non-ASCII is mangled)", () => {
    expect(parseDockerfile("COPY --chown=é a b\n").instructions[0]!.flags).toEqual(["--chown=\u00c3\u00a9"]);
  });
});

describe("flags", () => {
  it("peels quoted and escaped flags, stops at --", () => {
    const ast = parseDockerfile('COPY --chown="a b" --x=\\"q -- --not-a-flag /d\n');
    expect(ast.instructions[0]!.flags).toEqual(["--chown=a b", '--x="q']);
    expect(ast.instructions[0]!.args).toEqual(["--not-a-flag", "/d"]);
  });
  it("ONBUILD nests its trigger with its own flags", () => {
    expect(dumpAst(parseDockerfile("ONBUILD COPY --from=x a b\n"))).toBe(
      '(onbuild (copy ["--from=x"] "a" "b"))\n',
    );
  });
});
