import { expect, type Page, test } from "@playwright/test";
import { importFixture, openApp, setDockerfile } from "./helpers.ts";
import { screenshot } from "./screenshot.ts";

/** Picks one of the Files pane's views (its radio is drawn by its label, which takes the click). */
async function choose(page: Page, name: string): Promise<void> {
  const radio = page.getByRole("radio", { name });
  await page.locator("label", { has: radio }).click();
  await expect(radio).toBeChecked();
}

test("the raw view: a layer's tar entries as stored, whiteouts literally, the base's thousands of entries paged in", async ({
  page,
}) => {
  await openApp(page);
  await setDockerfile(page, "FROM ubuntu:20.04\nRUN rm -rf /usr/share/doc && echo hi > /greeting\n");
  await page.getByRole("button", { name: "Build", exact: true }).click();
  const log = page.getByRole("tabpanel").filter({ has: page.locator(".build-log") });
  await expect(log.getByRole("status")).toContainText("Built");
  const stack = page.getByRole("list", { name: "Layer stack" });
  await stack.getByRole("button", { name: /Layer 2: RUN/ }).click();

  await choose(page, "Raw");
  const entries = page.getByRole("listbox", { name: "Raw tar entries" });
  await expect(
    entries.getByRole("option", { name: /^usr\/share\/\.wh\.doc, whiteout, file,/ }),
  ).toBeVisible();
  await expect(entries.getByRole("option", { name: /greeting/ })).toBeVisible();
  const facts = page.getByRole("definition").filter({ hasText: /^sha256:/ });
  await expect(facts.first()).toBeVisible();
  // The whiteout's full header, shown when it is picked.
  await entries.getByRole("option", { name: /\.wh\.doc/ }).click();
  const header = page.getByLabel("Tar header");
  await expect(header).toContainText("usr/share/.wh.doc");
  await expect(header).toContainText("0 bytes");
  await screenshot(page, "raw-view-whiteout-1280");
  // A built image has no archive JSON as stored, and says so.
  await expect(page.locator(".raw-docs")).toContainText(
    "Built in LayerLab: there is no archive index as stored",
  );

  // The config JSON names each layer by diffId: the base's link selects layer 1.
  await page.getByText("Config JSON").click();
  await page.locator(".raw-docs pre").getByRole("button").first().click();
  await expect(
    stack.getByRole("listitem").filter({ has: page.getByRole("button", { name: /Layer 1: base/ }) }),
  ).toHaveAttribute("aria-current", "true");
  await expect(page.getByRole("radio", { name: "Raw" })).toBeChecked();
  const setSize = Number(
    await entries.getByRole("option").first().getAttribute("aria-setsize", { timeout: 20_000 }),
  );
  expect(setSize).toBeGreaterThan(1000);
  // Only the rows in view are in the page, however many entries the layer has.
  expect(await entries.getByRole("option").count()).toBeLessThan(120);
  await entries.focus();
  await page.keyboard.press("Home");
  await page.keyboard.press("End");
  await expect(entries.getByRole("option", { selected: true })).toHaveAttribute(
    "aria-posinset",
    String(setSize),
  );
  await screenshot(page, "raw-view-base-end-1280");

  // Back to the tree: the choice is one of three.
  await choose(page, "This layer's changes");
  await expect(page.getByRole("tree", { name: "Files" })).toBeVisible();
  await expect(entries).toHaveCount(0);
});

test("the raw view of an imported image: the archive's index.json and manifest.json as stored, their digests linked", async ({
  page,
}) => {
  await openApp(page);
  await importFixture(page, "src/testdata/archives/docker25.tar");
  const stack = page.getByRole("list", { name: "Layer stack" });
  await stack.getByRole("button", { name: /Layer 1/ }).click();
  await choose(page, "Raw");
  const docs = page.locator(".raw-docs");
  await docs.getByText("index.json as stored in the archive").click();
  const index = page.locator("#raw-doc-index\\.json pre");
  await expect(index).toContainText('"mediaType": "application/vnd.oci.image.index.v1+json"');
  await expect(index).toContainText('"io.containerd.image.name"');
  // The index names the manifest: its link opens the manifest, whose layer links select layers.
  await index.getByTitle("Show the manifest").click();
  await expect(page.locator("#raw-doc-manifest")).toHaveAttribute("open", "");
  const manifest = page.locator("#raw-doc-manifest pre");
  await expect(manifest).toContainText('"layers": [');
  await docs.getByText("manifest.json as stored in the archive").click();
  const dockerManifest = page.locator("#raw-doc-manifest\\.json pre");
  await expect(dockerManifest).toContainText('"RepoTags"');
  await expect(dockerManifest.getByTitle("Show the config")).toBeVisible();
  await screenshot(page, "raw-view-archive-index-1280");
  await dockerManifest.getByTitle("Show layer 2").first().click();
  await expect(stack.locator("li[aria-current=true]")).toContainText("Layer 2");
  await expect(page.getByRole("radio", { name: "Raw" })).toBeChecked();
});
