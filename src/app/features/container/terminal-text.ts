/** The words the terminal prints around the shell: prompt and banners (view text only). */
import type { ShellInfo } from "../../../worker/protocol.ts";

/** `user@container:cwd#` (or `$` for a non-root user), with the home directory as `~`, as bash shows it. */
export function promptOf(info: ShellInfo, cwd: string): string {
  const home = info.home !== "/" && (cwd === info.home || cwd.startsWith(`${info.home}/`));
  const where = home ? `~${cwd.slice(info.home.length)}` : cwd;
  return `\x1b[1;32m${info.user}@${info.name}\x1b[0m:\x1b[1;34m${where}\x1b[0m${info.uid === 0 ? "#" : "$"} `;
}

/** What the terminal says when it opens. */
export function bannerOf(info: ShellInfo, restored: boolean, image: string): string {
  const dim = (s: string) => `\x1b[2m${s}\x1b[0m\r\n`;
  if (info.state !== "running") {
    return dim(
      `Container ${info.name} has exited (its shell was its process). Its layer is kept: Start it in the Containers list for a new shell.`,
    );
  }
  const lines = [
    `docker run -it ${image}: container ${info.name}, a writable layer on top of the image's read-only layers. Every file this shell writes lands in that layer (copy-up on first write, whiteouts for deletes).`,
    `Docker would have started: ${info.command || "(no Entrypoint or Cmd)"}. You get the shell RUN uses instead: its utilities run; the image's programs only exist as files.`,
  ];
  if (restored)
    lines.push(
      "Reattached after a reload: the container layer and the shell history were kept; a command that was running when the page closed was not (it ran in that page).",
    );
  return lines.map(dim).join("");
}
