/**
 * useradd, groupadd (shadow-utils, as Debian has them) and adduser, addgroup (BusyBox's options):
 * the account commands Dockerfiles run most, writing /etc/passwd, /etc/group, /etc/shadow and the
 * home directory as the real tools do, so `USER` and `--chown` find the names afterwards.
 */
import { type CustomCommand, defineCommand } from "just-bash";
import type { BashFs } from "../bash-fs.ts";

interface Db {
  passwd: string[][];
  group: string[][];
}

async function readDb(bfs: BashFs): Promise<Db> {
  const rows = async (path: string): Promise<string[][]> => {
    try {
      const text = await bfs.readFile(path);
      return text
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => l.split(":"));
    } catch {
      return [];
    }
  };
  return { passwd: await rows("/etc/passwd"), group: await rows("/etc/group") };
}

async function append(bfs: BashFs, path: string, line: string, mode = 0o644): Promise<void> {
  let before = "";
  try {
    before = await bfs.readFile(path);
  } catch {
    // The file is created with the first line.
  }
  const sep = before === "" || before.endsWith("\n") ? "" : "\n";
  await bfs.writeBytes(path, new TextEncoder().encode(`${before}${sep}${line}\n`), mode);
}

async function exists(bfs: BashFs, path: string): Promise<boolean> {
  return bfs.exists(path);
}

/** The next free id: system ids count down from 999, others up from 1000 (as login.defs says). */
function nextId(used: Set<number>, system: boolean): number {
  if (system) {
    for (let i = 999; i > 100; i--) if (!used.has(i)) return i;
  }
  let i = 1000;
  while (used.has(i)) i++;
  return i;
}

interface Options {
  flags: Map<string, string>;
  bools: Set<string>;
  names: string[];
}

function parse(args: string[], withValue: string[], aliases: Record<string, string>): Options {
  const flags = new Map<string, string>();
  const bools = new Set<string>();
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const raw = args[i] as string;
    const a = aliases[raw] ?? raw;
    if (a.startsWith("--") && a.includes("=")) {
      const [k = "", v = ""] = a.split("=", 2);
      flags.set(aliases[k] ?? k, v);
    } else if (withValue.includes(a)) flags.set(a, args[++i] ?? "");
    else if (a.startsWith("-") && a.length > 1) {
      // Combined short flags: -mr
      for (const c of a.slice(1)) bools.add(`-${c}`);
    } else names.push(a);
  }
  return { flags, bools, names };
}

async function addGroup(
  bfs: BashFs,
  name: string,
  gid: number | undefined,
  system: boolean,
): Promise<number> {
  const db = await readDb(bfs);
  const used = new Set(db.group.map((r) => Number(r[2])));
  const id = gid ?? nextId(used, system);
  await append(bfs, "/etc/group", `${name}:x:${id}:`);
  if (await exists(bfs, "/etc/gshadow")) await append(bfs, "/etc/gshadow", `${name}:!::`, 0o640);
  return id;
}

async function addUser(
  bfs: BashFs,
  o: {
    name: string;
    uid?: number;
    group?: string;
    home: string;
    shell: string;
    createHome: boolean;
    system: boolean;
    gecos?: string;
  },
): Promise<string | undefined> {
  const db = await readDb(bfs);
  if (db.passwd.some((r) => r[0] === o.name)) return `user '${o.name}' already exists`;
  const uid = o.uid ?? nextId(new Set(db.passwd.map((r) => Number(r[2]))), o.system);
  let gid: number;
  if (o.group !== undefined) {
    const g = db.group.find((r) => r[0] === o.group || r[2] === o.group);
    if (!g) return `group '${o.group}' does not exist`;
    gid = Number(g[2]);
  } else {
    const own = db.group.find((r) => r[0] === o.name);
    gid = own
      ? Number(own[2])
      : await addGroup(bfs, o.name, db.group.some((r) => r[2] === String(uid)) ? undefined : uid, o.system);
  }
  await append(bfs, "/etc/passwd", `${o.name}:x:${uid}:${gid}:${o.gecos ?? ""}:${o.home}:${o.shell}`);
  if (await exists(bfs, "/etc/shadow")) await append(bfs, "/etc/shadow", `${o.name}:!:0:0:99999:7:::`, 0o640);
  if (o.createHome && !(await exists(bfs, o.home))) {
    bfs.mkdirSync(o.home, true, 0o755, { uid: 0, gid: 0 });
    bfs.chown(o.home, uid, gid);
    if (await exists(bfs, "/etc/skel")) {
      for (const name of await bfs.readdir("/etc/skel")) {
        await bfs.cp(`/etc/skel/${name}`, `${o.home}/${name}`, { recursive: true });
        bfs.chown(`${o.home}/${name}`, uid, gid, false);
      }
    }
  }
  return undefined;
}

const fail = (tool: string, msg: string, code: number) => ({
  stdout: "",
  stderr: `${tool}: ${msg}\n`,
  exitCode: code,
});

/** id, whoami and groups for the step's user, named through the image's account files. */
function identityCommands(bfs: BashFs): CustomCommand[] {
  const names = async () => {
    const db = await readDb(bfs);
    const { uid, gid } = bfs.owner;
    const user = db.passwd.find((r) => r[2] === String(uid))?.[0];
    const group = db.group.find((r) => r[2] === String(gid))?.[0];
    const extra = user
      ? db.group.filter((r) => (r[3] ?? "").split(",").includes(user) && r[2] !== String(gid))
      : [];
    return { uid, gid, user, group, extra };
  };
  const id = defineCommand("id", async (args) => {
    const n = await names();
    const fmt = (i: number, name: string | undefined) => (name ? `${i}(${name})` : `${i}`);
    if (args.includes("-u"))
      return { stdout: `${args.includes("-n") ? (n.user ?? n.uid) : n.uid}\n`, stderr: "", exitCode: 0 };
    if (args.includes("-g"))
      return { stdout: `${args.includes("-n") ? (n.group ?? n.gid) : n.gid}\n`, stderr: "", exitCode: 0 };
    const groups = [fmt(n.gid, n.group), ...n.extra.map((r) => fmt(Number(r[2]), r[0]))].join(",");
    return {
      stdout: `uid=${fmt(n.uid, n.user)} gid=${fmt(n.gid, n.group)} groups=${groups}\n`,
      stderr: "",
      exitCode: 0,
    };
  });
  const whoami = defineCommand("whoami", async () => {
    const n = await names();
    if (!n.user) return fail("whoami", `cannot find name for user ID ${n.uid}`, 1);
    return { stdout: `${n.user}\n`, stderr: "", exitCode: 0 };
  });
  const groups = defineCommand("groups", async () => {
    const n = await names();
    return {
      stdout: `${[n.group ?? String(n.gid), ...n.extra.map((r) => r[0])].join(" ")}\n`,
      stderr: "",
      exitCode: 0,
    };
  });
  return [id, whoami, groups];
}

/** The account commands, writing through the step's filesystem. */
export function userCommands(bfs: BashFs): CustomCommand[] {
  const useradd = defineCommand("useradd", async (args) => {
    const o = parse(args, ["-u", "-g", "-d", "-s", "-c", "-G", "-k"], {
      "--uid": "-u",
      "--gid": "-g",
      "--home-dir": "-d",
      "--shell": "-s",
      "--comment": "-c",
      "--create-home": "-m",
      "--system": "-r",
      "--groups": "-G",
    });
    const name = o.names[0];
    if (!name) return fail("useradd", "missing user name", 2);
    const uid = o.flags.get("-u");
    const msg = await addUser(bfs, {
      name,
      ...(uid !== undefined ? { uid: Number(uid) } : {}),
      ...(o.flags.has("-g") ? { group: o.flags.get("-g") as string } : {}),
      home: o.flags.get("-d") ?? `/home/${name}`,
      shell: o.flags.get("-s") ?? "/bin/sh",
      createHome: o.bools.has("-m"),
      system: o.bools.has("-r"),
      ...(o.flags.has("-c") ? { gecos: o.flags.get("-c") as string } : {}),
    });
    return msg
      ? fail("useradd", msg, msg.includes("already") ? 9 : 6)
      : { stdout: "", stderr: "", exitCode: 0 };
  });
  const groupadd = defineCommand("groupadd", async (args) => {
    const o = parse(args, ["-g"], { "--gid": "-g", "--system": "-r" });
    const name = o.names[0];
    if (!name) return fail("groupadd", "missing group name", 2);
    const db = await readDb(bfs);
    if (db.group.some((r) => r[0] === name)) return fail("groupadd", `group '${name}' already exists`, 9);
    const gid = o.flags.get("-g");
    await addGroup(bfs, name, gid === undefined ? undefined : Number(gid), o.bools.has("-r"));
    return { stdout: "", stderr: "", exitCode: 0 };
  });
  // BusyBox: adduser [-h DIR] [-g GECOS] [-s SHELL] [-G GRP] [-S] [-D] [-H] [-u UID] USER [GROUP]
  const adduser = defineCommand("adduser", async (args) => {
    const o = parse(args, ["-h", "-g", "-s", "-G", "-u"], {
      "--home": "-h",
      "--shell": "-s",
      "--ingroup": "-G",
      "--uid": "-u",
      "--system": "-S",
      "--disabled-password": "-D",
      "--no-create-home": "-H",
    });
    const name = o.names[0];
    if (!name) return fail("adduser", "missing user name", 1);
    const uid = o.flags.get("-u");
    const group = o.flags.get("-G") ?? o.names[1];
    const msg = await addUser(bfs, {
      name,
      ...(uid !== undefined ? { uid: Number(uid) } : {}),
      ...(group !== undefined ? { group } : {}),
      home: o.flags.get("-h") ?? `/home/${name}`,
      shell: o.flags.get("-s") ?? "/bin/sh",
      createHome: !o.bools.has("-H"),
      system: o.bools.has("-S"),
      ...(o.flags.has("-g") ? { gecos: o.flags.get("-g") as string } : {}),
    });
    return msg ? fail("adduser", msg, 1) : { stdout: "", stderr: "", exitCode: 0 };
  });
  const addgroup = defineCommand("addgroup", async (args) => {
    const o = parse(args, ["-g"], { "--gid": "-g", "--system": "-S" });
    const name = o.names[0];
    if (!name) return fail("addgroup", "missing group name", 1);
    const db = await readDb(bfs);
    if (db.group.some((r) => r[0] === name)) return fail("addgroup", `group '${name}' in use`, 1);
    const gid = o.flags.get("-g");
    await addGroup(bfs, name, gid === undefined ? undefined : Number(gid), o.bools.has("-S"));
    return { stdout: "", stderr: "", exitCode: 0 };
  });
  return [useradd, groupadd, adduser, addgroup, ...identityCommands(bfs)];
}
