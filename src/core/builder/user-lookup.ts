/**
 * User and group names resolved through the image's own /etc/passwd and /etc/group, as runc and
 * BuildKit's COPY --chown do: a name missing there is an error, numbers need no lookup.
 */
import { LayerLabError } from "../errors.ts";
import type { LayerFs } from "./layer-fs.ts";

async function readLines(fs: LayerFs, path: string): Promise<string[][]> {
  try {
    const r = fs.resolve(path, true);
    if (r.node?.type !== "file") return [];
    const text = new TextDecoder().decode(await fs.contentOf(r.node));
    return text
      .split("\n")
      .filter((l) => l.trim() !== "" && !l.startsWith("#"))
      .map((l) => l.split(":"));
  } catch {
    return [];
  }
}

const NUMERIC = /^\d+$/;

/** Resolves `user[:group]` to numeric ids through the rootfs; with a user only, the gid is the user's. */
export async function resolveUser(
  fs: LayerFs,
  spec: string,
  what: "user" | "chown" = "user",
): Promise<{ uid: number; gid: number }> {
  const [user = "", group] = spec.split(":", 2);
  let uid: number;
  let gid: number | undefined;
  if (NUMERIC.test(user)) {
    uid = Number(user);
    if (group === undefined && what === "user") {
      const row = (await readLines(fs, "etc/passwd")).find((r) => r[2] === user);
      gid = row ? Number(row[3]) : 0;
    } else if (group === undefined) gid = uid;
  } else {
    const row = (await readLines(fs, "etc/passwd")).find((r) => r[0] === user);
    if (!row) {
      throw new LayerLabError(
        "BUILD",
        what === "chown"
          ? `unable to convert uid/gid chown string to host mapping: can't find uid for user ${user}: no such user: ${user}`
          : `unable to find user ${user}: no matching entries in passwd file`,
      );
    }
    uid = Number(row[2]);
    if (group === undefined) gid = Number(row[3] ?? uid);
  }
  if (group !== undefined) {
    if (NUMERIC.test(group)) gid = Number(group);
    else {
      const row = (await readLines(fs, "etc/group")).find((r) => r[0] === group);
      if (!row) {
        throw new LayerLabError(
          "BUILD",
          what === "chown"
            ? `unable to convert uid/gid chown string to host mapping: can't find gid for group ${group}: no such group: ${group}`
            : `unable to find group ${group}: no matching entries in group file`,
        );
      }
      gid = Number(row[2]);
    }
  }
  return { uid, gid: gid ?? 0 };
}

/** The home directory of a uid in /etc/passwd, "/" when it has none (as runc does). */
export async function homeOf(fs: LayerFs, uid: number): Promise<string> {
  const row = (await readLines(fs, "etc/passwd")).find((r) => r[2] === String(uid));
  return row?.[5] || "/";
}
