/**
 * RUN `--mount` and `--device` values, read as BuildKit's instructions package reads them
 * (commands_runmount.go, commands_rundevice.go): a CSV line of `key=value` fields. At parse time
 * nothing is expanded and only a `from` that uses a variable is refused; at dispatch each option
 * VALUE is expanded on its own (never the whole spec) and the mount is validated.
 */
import { DockerfileError, type Range } from "../errors.ts";
import { suggest } from "./suggest.ts";

/** The mount types BuildKit knows. */
export const MOUNT_TYPES = ["bind", "cache", "tmpfs", "secret", "ssh"] as const;
export type MountType = (typeof MOUNT_TYPES)[number];

const SHARING = ["shared", "private", "locked"];
const MOUNT_KEYS = [
  "type",
  "from",
  "source",
  "target",
  "readonly",
  "id",
  "sharing",
  "required",
  "mode",
  "uid",
  "gid",
  "src",
  "dst",
  "ro",
  "rw",
  "readwrite",
];

/** One `--mount`, after its option values were expanded. */
export interface RunMount {
  type: MountType;
  /** As written (relative to WORKDIR when not absolute); "" when not given. */
  target: string;
  source: string;
  from: string;
  /** The cache id (`id=`), "" when not given. */
  id: string;
  readOnly: boolean;
  required: boolean;
  sharing: string;
  mode: number | undefined;
  uid: number | undefined;
  gid: number | undefined;
}

function fail(message: string, range: Range, suggestion?: string): never {
  throw new DockerfileError(message, range, {
    code: "DOCKERFILE_SEMANTIC",
    ...(suggestion ? { suggestion } : {}),
  });
}

/** Splits one CSV record as Go's encoding/csv does (quoted fields, `""` inside quotes). */
export function splitCsv(line: string, range: Range, what: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = "";
    if (line[i] === '"') {
      i += 1;
      for (;;) {
        if (i >= line.length)
          fail(`failed to parse csv ${what}: extraneous or missing " in quoted-field`, range);
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        field += line[i];
        i += 1;
      }
      if (i < line.length && line[i] !== ",")
        fail(`failed to parse csv ${what}: extraneous or missing " in quoted-field`, range);
    } else {
      const end = line.indexOf(",", i);
      field = end < 0 ? line.slice(i) : line.slice(i, end);
      if (field.includes('"')) fail(`failed to parse csv ${what}: bare " in non-quoted-field`, range);
      i = end < 0 ? line.length : end;
    }
    fields.push(field);
    if (i >= line.length) return fields;
    i += 1;
  }
}

function parseBool(v: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  return undefined;
}

function parseUint(v: string, radix: 8 | 10, max: number): number | undefined {
  const re = radix === 8 ? /^[0-7]+$/ : /^\d+$/;
  if (!re.test(v)) return undefined;
  const n = Number.parseInt(v, radix);
  return n <= max ? n : undefined;
}

/**
 * Reads one `--mount` value. Without `expand` (parse time) only the CSV and a variable in `from`
 * are checked and undefined is returned; with it, every value is expanded and the mount validated.
 */
export function parseRunMount(spec: string, range: Range, expand: (word: string) => string): RunMount;
export function parseRunMount(spec: string, range: Range): undefined;
export function parseRunMount(
  spec: string,
  range: Range,
  expand?: (word: string) => string,
): RunMount | undefined {
  const fields = splitCsv(spec, range, "mounts");
  const m: RunMount = {
    type: "bind",
    target: "",
    source: "",
    from: "",
    id: "",
    readOnly: true,
    required: false,
    sharing: "",
    mode: undefined,
    uid: undefined,
    gid: undefined,
  };
  let roAuto = true;
  for (const field of fields) {
    const eq = field.indexOf("=");
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (!expand) continue;
      if (key === "readonly" || key === "ro" || key === "readwrite" || key === "rw") {
        m.readOnly = key === "readonly" || key === "ro";
        roAuto = false;
        continue;
      }
      if (key === "required" && (m.type === "secret" || m.type === "ssh")) {
        m.required = true;
        continue;
      }
      if (key === "required") fail(`unexpected key '${key}' for mount type '${m.type}'`, range);
      fail(`invalid field '${field}' must be a key=value pair`, range);
    }
    let value = field.slice(eq + 1);
    if (!expand) {
      // BuildKit refuses a variable in `from` before anything is expanded: stages are fixed at parse.
      if (key === "from" && /\$./.test(value))
        fail(`'from' doesn't support variable expansion, define alias stage instead`, range);
      continue;
    }
    value = expand(value);
    const invalid = (): never => fail(`invalid value for ${key}: ${value}`, range);
    switch (key) {
      case "type": {
        const t = value.toLowerCase();
        if (!(MOUNT_TYPES as readonly string[]).includes(t)) {
          const s = suggest(value, MOUNT_TYPES);
          fail(`unsupported mount type "${value}"`, range, s);
        }
        m.type = t as MountType;
        break;
      }
      case "from":
        m.from = value;
        break;
      case "source":
      case "src":
        m.source = value;
        break;
      case "target":
      case "dst":
      case "destination":
        m.target = value;
        break;
      case "readonly":
      case "ro":
      case "readwrite":
      case "rw": {
        const b = parseBool(value) ?? invalid();
        m.readOnly = key === "readonly" || key === "ro" ? b : !b;
        roAuto = false;
        break;
      }
      case "required": {
        if (m.type !== "secret" && m.type !== "ssh")
          fail(`unexpected key '${key}' for mount type '${m.type}'`, range);
        m.required = parseBool(value) ?? invalid();
        break;
      }
      case "size":
        if (m.type !== "tmpfs") fail(`unexpected key '${key}' for mount type '${m.type}'`, range);
        if (!/^\d+(\.\d+)?\s*([kmgtp]i?b?|b)?$/i.test(value)) invalid();
        break;
      case "id":
        m.id = value;
        break;
      case "sharing": {
        const v = value.toLowerCase();
        if (!SHARING.includes(v))
          fail(`unsupported sharing value "${value}"`, range, suggest(value, SHARING));
        m.sharing = v;
        break;
      }
      case "mode":
        m.mode = parseUint(value, 8, 2 ** 32 - 1);
        if (m.mode === undefined) fail(`invalid value ${value} for mode`, range);
        break;
      case "uid":
      case "gid": {
        const n = parseUint(value, 10, 2 ** 32 - 1);
        if (n === undefined) fail(`invalid value ${value} for ${key}`, range);
        m[key] = n;
        break;
      }
      default: {
        const s = suggest(key, MOUNT_KEYS);
        fail(`unexpected key '${key}' in '${field}'`, range, s);
      }
    }
  }
  if (!expand) return undefined;
  validateMount(m, roAuto, range);
  return m;
}

function validateMount(m: RunMount, roAuto: boolean, range: Range): void {
  if (m.type !== "secret" && m.type !== "ssh" && m.type !== "cache") {
    for (const k of ["mode", "uid", "gid"] as const)
      if (m[k] !== undefined) fail(`${k} not allowed for "${m.type}" type mounts`, range);
  }
  if (roAuto) m.readOnly = m.type !== "cache" && m.type !== "tmpfs";
  if (m.type === "secret") {
    if (m.from !== "") fail("secret mount should not have a from", range);
    if (m.sharing !== "") fail("secret mount should not define sharing", range);
    if (m.source === "" && m.target === "" && m.id === "")
      fail("invalid secret mount. one of source, target required", range);
    if (m.source !== "" && m.id !== "") fail("both source and id can't be set", range);
  }
  if (m.sharing !== "" && m.type !== "cache") fail(`invalid cache sharing set for ${m.type} mount`, range);
  // BuildKit joins an empty target with WORKDIR; LayerLab asks for it, so a mount never hides the workdir by accident.
  if (m.type !== "secret" && m.type !== "ssh") {
    if (m.target === "")
      fail(`mount target is not set in '--mount=type=${m.type}'`, range, `target=<path in the container>`);
    if (m.target.replace(/\/+$/, "") === "" && m.target.startsWith("/"))
      fail(`invalid mount target "/"`, range);
  }
}

/** One `--device`: a CDI device name, and whether the build must fail without it. */
export interface RunDevice {
  name: string;
  required: boolean;
}

/** Reads one `--device` value as BuildKit's ParseDevice does (checked at parse time). */
export function parseRunDevice(spec: string, range: Range): RunDevice {
  const d: RunDevice = { name: "", required: false };
  for (const field of splitCsv(spec, range, "devices")) {
    const eq = field.indexOf("=");
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (key === "required") d.required = true;
      else if (d.name === "") d.name = field;
      else fail(`invalid field '${field}' must be a key=value pair`, range);
      continue;
    }
    const value = field.slice(eq + 1);
    if (key === "name") {
      if (d.name !== "") fail(`device name already set to ${d.name}`, range);
      d.name = value;
    } else if (key === "required") {
      d.required = parseBool(value) ?? fail(`invalid value for ${key}: ${value}`, range);
    } else if (d.name === "") d.name = field;
    else fail(`unexpected key '${key}' in '${field}'`, range, suggest(key, ["name", "required"]));
  }
  return d;
}

/** The `from=` of a `--mount` as written (never expanded: a variable there is refused), or "". */
export function mountFrom(spec: string): string {
  for (const field of spec.split(",")) {
    const eq = field.indexOf("=");
    if (eq > 0 && field.slice(0, eq).toLowerCase() === "from") return field.slice(eq + 1);
  }
  return "";
}
