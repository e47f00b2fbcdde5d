import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { openApp, setDockerfile } from "./helpers.ts";

/** The tar.xz of src/core/archive/xz.test.ts (app/hello.txt, app/link, app/numbers.txt; xz -6, CRC64). */
const TAR_XZ = Buffer.from(
  "/Td6WFoAAATm1rRGAgAhARYAAAB0L+Wj4Cf/Ab9dADCcLF4A3TRhoicOEFoJCCoCPPGImKTlgdk8bUgeIV/sfqlGmxD2QksaxXWn9LNiTuoAagQ3BPGcEXGCP6EpWJ8tt7hBfoJlLgD+0NyqLU8OTWqny0XIt5QpTmewEuEPOa/u6jrrEszPi6Eh1yQUYeJOajwXhRSnU8HJVhkVX1iECe4LZEiwiTXoO7Qfrbsn+dhoMg5ispubowD8qPRj7puMUZFb7cIFb7+VB+LCe5T6zhDPY59ywhNo6O3N5wGFaXtPHzGiU1w3Jh+2g9B8/x5QnUH5CDMM7Wfr12QlcJQsVYTupXcaJlGI0S1MpWZiUnU2P0wBkoVfoo+jz7q+6itN2GDH+J554AOPzq7W/+5eI8x8gMnOTQoQXE2GUhCOURPdDAVlHDZHQikMBmABsTb8dsGHYe7WyyQXcE84zpLdiRgy8+KZ9LDLYTdPPu79BB2rd7/tvOoVIXi3CCMW5INuPKOrrPX0Lwo1ab78G4l6wpPieIP3UMkZTjoFmfa9TCl2vQpMu/DRq2Mbk4do+NLoWFO+HKQ9eI+nfBNO9NZsjCJ1z81SkLpGYmo3YLW3eZY28/FMd00u4O+Qe0N/AAAAQeLjIGq1P7EAAdsDgFAAAGra6X2xxGf7AgAAAAAEWVo=",
  "base64",
);

test("ADD extracts a .tar.xz in the browser's worker (xz-decompress's WebAssembly, inlined in the build)", async ({
  page,
}) => {
  await openApp(page);
  await page.getByRole("tab", { name: "Build context" }).click();
  const folder = mkdtempSync(join(tmpdir(), "layerlab-xz-"));
  writeFileSync(join(folder, "app.tar.xz"), TAR_XZ);
  await page.getByLabel("Choose a build context folder").setInputFiles(folder);
  await expect(page.getByRole("list", { name: "Context files" })).toContainText("app.tar.xz");
  await setDockerfile(page, "FROM scratch\nADD app.tar.xz /srv/\n");
  await page.getByRole("button", { name: "Build", exact: true }).click();
  await expect(page.locator(".build-log").getByRole("status")).toContainText("Built", { timeout: 60_000 });
  await page
    .getByRole("list", { name: "Layer stack" })
    .getByRole("button", { name: /Layer 1: ADD/ })
    .click();
  const tree = page.getByRole("tree", { name: "Files" });
  await page.getByRole("searchbox", { name: "Filter files by path" }).fill("srv/app");
  await expect(tree.getByRole("treeitem", { name: /^hello\.txt,/ })).toBeVisible();
  await expect(tree.getByRole("treeitem", { name: /^numbers\.txt,/ })).toBeVisible();
  await expect(tree.getByRole("treeitem", { name: /^app\.tar\.xz,/ })).toHaveCount(0);
});
