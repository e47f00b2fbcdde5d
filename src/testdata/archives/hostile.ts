/**
 * Generates hostile and broken image archives, each with the refusal LayerLab must give.
 * `hostile.test.ts` imports every case; `npx tsx src/testdata/archives/hostile.ts OUT_DIR` writes
 * them to files for poking at by hand. The archives are small and made in memory, so none is
 * committed. Each case reuses the real layers of ../archives/oci.tar where it can, so a test can
 * check that a refused import leaves blobs that were already stored (shared layers) in place.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { collectBytes } from "../../core/archive/bytes.ts";
import { type TarWriteEntry, writeTar } from "../../core/archive/tar-writer.ts";
import { type Digest, sha256 } from "../../core/digest.ts";
import type { ImportLimits } from "../../core/image/import.ts";
import { minimalConfig } from "../../core/image/layout-writer.ts";
import { fixtureBytes } from "./fixtures.ts";

/** One hostile archive and what must happen to it. */
export interface HostileCase {
  name: string;
  /** What the archive does. */
  about: string;
  bytes: Uint8Array;
  /** The error code expected. */
  code: "ARCHIVE_HOSTILE" | "ARCHIVE_INVALID" | "ARCHIVE_TOO_LARGE" | "DIGEST_MISMATCH";
  /** A pattern the message must match (naming the entry). */
  message: RegExp;
  limits?: ImportLimits;
}

const te = new TextEncoder();
const json = (o: unknown) => te.encode(JSON.stringify(o));
const tar = (entries: TarWriteEntry[]) => collectBytes(writeTar(entries));
const file = (name: string, text: string): TarWriteEntry => ({ name, body: te.encode(text) });

/** The real first layer of the fixture image (gzip), shared with the store the tests prepare. */
async function realLayer(): Promise<{ gz: Uint8Array; diffId: Digest }> {
  const outer = fixtureBytes("oci.tar");
  const { readTar, readAll } = await import("../../core/archive/tar-reader.ts");
  const blobs = new Map<string, Uint8Array>();
  for await (const e of readTar(
    (async function* () {
      yield outer;
    })(),
  )) {
    blobs.set(e.header.name.replace(/^\.\//, ""), await readAll(e.body, 1 << 20));
  }
  const index = JSON.parse(new TextDecoder().decode(blobs.get("index.json")));
  const latest = index.manifests.find(
    (m: { annotations: Record<string, string> }) =>
      m.annotations["org.opencontainers.image.ref.name"] === "latest",
  );
  const manifest = JSON.parse(new TextDecoder().decode(blobs.get(`blobs/sha256/${latest.digest.slice(7)}`)));
  const gz = blobs.get(`blobs/sha256/${manifest.layers[0].digest.slice(7)}`)!;
  const { gunzipSync } = await import("node:zlib");
  return { gz, diffId: await sha256(gunzipSync(gz)) };
}

interface Layer {
  blob: Uint8Array;
  diffId: Digest;
  mediaType: string;
}

async function plainLayer(entries: TarWriteEntry[]): Promise<Layer> {
  const blob = await tar(entries);
  return { blob, diffId: await sha256(blob), mediaType: "application/vnd.oci.image.layer.v1.tar" };
}

/** The files of an OCI layout archive for these layers, for cases to tamper with. */
async function ociFiles(layers: Layer[], configOverride?: (c: ReturnType<typeof minimalConfig>) => void) {
  const config = minimalConfig(layers.map((l) => l.diffId));
  configOverride?.(config);
  const configBytes = json(config);
  const descs = await Promise.all(
    layers.map(async (l) => ({
      mediaType: l.mediaType,
      digest: await sha256(l.blob),
      size: l.blob.byteLength,
    })),
  );
  const manifest = json({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: await sha256(configBytes),
      size: configBytes.byteLength,
    },
    layers: descs,
  });
  const index = json({
    schemaVersion: 2,
    manifests: [
      {
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: await sha256(manifest),
        size: manifest.byteLength,
        annotations: { "org.opencontainers.image.ref.name": "hostile" },
      },
    ],
  });
  const files = new Map<string, Uint8Array>();
  for (const l of layers) files.set(`blobs/sha256/${(await sha256(l.blob)).slice(7)}`, l.blob);
  files.set(`blobs/sha256/${(await sha256(configBytes)).slice(7)}`, configBytes);
  files.set(`blobs/sha256/${(await sha256(manifest)).slice(7)}`, manifest);
  files.set("index.json", index);
  files.set("oci-layout", json({ imageLayoutVersion: "1.0.0" }));
  return { files, manifestDigest: await sha256(manifest), configBytes, descs };
}

const pack = (files: Map<string, Uint8Array>, extra: TarWriteEntry[] = []) =>
  tar([...[...files].map(([name, body]) => ({ name, body })), ...extra]);

/** An image whose second layer holds the given entries (the first is the real shared layer). */
async function withLayer(entries: TarWriteEntry[]): Promise<Uint8Array> {
  const real = await realLayer();
  const shared: Layer = {
    blob: real.gz,
    diffId: real.diffId,
    mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
  };
  return pack((await ociFiles([shared, await plainLayer(entries)])).files);
}

/** Every hostile case. */
export async function hostileCases(): Promise<HostileCase[]> {
  const cases: HostileCase[] = [];
  const add = (c: HostileCase) => cases.push(c);
  add({
    name: "dotdot-path",
    about: "a layer entry ../../etc/passwd that would write outside the root",
    bytes: await withLayer([file("../../etc/passwd", "root::0:0\n")]),
    code: "ARCHIVE_HOSTILE",
    message: /\.\.\/\.\.\/etc\/passwd: '\.\.' in path refused/,
  });
  add({
    name: "dotdot-inner",
    about: "a layer entry a/../../x that climbs out through a directory",
    bytes: await withLayer([file("a/../../x", "x")]),
    code: "ARCHIVE_HOSTILE",
    message: /a\/\.\.\/\.\.\/x: '\.\.' in path refused/,
  });
  add({
    name: "absolute-path",
    about: "a layer entry with an absolute path",
    bytes: await withLayer([file("/etc/cron.d/evil", "* * * * * root sh\n")]),
    code: "ARCHIVE_HOSTILE",
    message: /\/etc\/cron\.d\/evil: absolute path refused/,
  });
  add({
    name: "symlink-escape-write",
    about: "a symlink to ../../../../etc followed by a file written through it",
    bytes: await withLayer([
      { name: "evil", type: "symlink", linkname: "../../../../etc" },
      file("evil/passwd", "root::0:0\n"),
    ]),
    code: "ARCHIVE_HOSTILE",
    message: /evil\/passwd: written through the symlink 'evil'/,
  });
  add({
    name: "absolute-symlink-write",
    about: "a symlink to /etc followed by a file written through it, two levels down",
    bytes: await withLayer([
      { name: "usr", type: "dir" },
      { name: "usr/lib", type: "symlink", linkname: "/etc" },
      file("usr/lib/cron.d/x", "x"),
    ]),
    code: "ARCHIVE_HOSTILE",
    message: /usr\/lib\/cron\.d\/x: written through the symlink 'usr\/lib'/,
  });
  add({
    name: "hardlink-outside",
    about: "a hardlink to ../../etc/shadow",
    bytes: await withLayer([{ name: "shadow", type: "hardlink", linkname: "../../etc/shadow" }]),
    code: "ARCHIVE_HOSTILE",
    message: /shadow: '\.\.' in path refused/,
  });
  add({
    name: "hardlink-not-in-layer",
    about: "a hardlink to a path this layer never wrote",
    bytes: await withLayer([{ name: "copy", type: "hardlink", linkname: "etc/shadow" }]),
    code: "ARCHIVE_HOSTILE",
    message: /copy: hardlink to 'etc\/shadow', which is not a regular file earlier in this layer/,
  });
  add({
    name: "duplicate-type-change",
    about: "the same path twice, first a directory, then a symlink",
    bytes: await withLayer([
      { name: "data", type: "dir" },
      { name: "data", type: "symlink", linkname: "/" },
    ]),
    code: "ARCHIVE_HOSTILE",
    message: /data: duplicate entry changes type from dir to symlink/,
  });
  add({
    name: "bare-whiteout",
    about: "a whiteout named just .wh.",
    bytes: await withLayer([{ name: "etc", type: "dir" }, file("etc/.wh.", "")]),
    code: "ARCHIVE_HOSTILE",
    message: /etc\/\.wh\.: whiteout '\.wh\.' names no file/,
  });
  add({
    name: "write-below-file",
    about: "a file, then an entry below it as if it were a directory",
    bytes: await withLayer([file("f", "x"), file("f/g", "y")]),
    code: "ARCHIVE_HOSTILE",
    message: /f\/g: parent 'f' is a file, not a directory/,
  });

  const good = await withLayer([file("ok", "fine\n")]);
  add({
    name: "truncated-archive",
    about: "a valid archive cut off in the middle of an entry",
    bytes: good.slice(0, 512 * 5 + 100),
    code: "ARCHIVE_INVALID",
    message: /truncated tar archive/,
  });
  const corrupt = good.slice();
  // The second entry's header: the first (the 522-byte shared layer) spans bytes 0-1535.
  corrupt[1536 + 140]! ^= 0x01;
  add({
    name: "corrupt-header-checksum",
    about: "one flipped bit in an entry header of the archive, right after a layer",
    bytes: corrupt,
    code: "ARCHIVE_INVALID",
    message: /^blobs\/sha256\/[0-9a-f]{64}: corrupt tar header \(bad checksum\).*at byte 1536/,
  });
  const badLayer = await tar([file("a", "a"), file("b", "b")]);
  badLayer[512 * 2 + 140]! ^= 0x01;
  const bad = await ociFiles([
    { blob: badLayer, diffId: await sha256(badLayer), mediaType: "application/vnd.oci.image.layer.v1.tar" },
  ]);
  add({
    name: "corrupt-layer-checksum",
    about: "one flipped bit in a header inside a layer",
    bytes: await pack(bad.files),
    code: "ARCHIVE_INVALID",
    message: /blobs\/sha256\/[0-9a-f]{64}: not a readable layer: b: corrupt tar header/,
  });
  const cut = (await tar([file("a", "x".repeat(4000))])).slice(0, 2048);
  const cutFiles = await ociFiles([
    { blob: cut, diffId: await sha256(cut), mediaType: "application/vnd.oci.image.layer.v1.tar" },
  ]);
  add({
    name: "truncated-layer",
    about: "a layer tar cut off inside its only file",
    bytes: await pack(cutFiles.files),
    code: "ARCHIVE_INVALID",
    message: /not a readable layer: a: truncated tar archive/,
  });
  add({
    name: "not-tar",
    about: "random bytes instead of an archive",
    bytes: Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251),
    code: "ARCHIVE_INVALID",
    message: /not a tar archive/,
  });
  add({
    name: "no-manifest",
    about: "a valid tar without index.json or manifest.json",
    bytes: await tar([file("hello.txt", "hi")]),
    code: "ARCHIVE_INVALID",
    message: /not an image archive/,
  });
  const real = await realLayer();
  const shared: Layer = {
    blob: real.gz,
    diffId: real.diffId,
    mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
  };
  {
    const { files } = await ociFiles([shared]);
    files.set("index.json", te.encode('{"schemaVersion": 2, "manifests": [ {"digest": '));
    add({
      name: "invalid-json",
      about: "index.json cut off mid-document",
      bytes: await pack(files),
      code: "ARCHIVE_INVALID",
      message: /index\.json: invalid JSON/,
    });
  }
  {
    const { files, descs } = await ociFiles([shared, await plainLayer([file("x", "x")])]);
    files.delete(`blobs/sha256/${descs[1]!.digest.slice(7)}`);
    add({
      name: "missing-blob",
      about: "a manifest naming a layer blob the archive does not hold",
      bytes: await pack(files),
      code: "ARCHIVE_INVALID",
      message: new RegExp(`names blob ${descs[1]!.digest}, which is not in the archive`),
    });
  }
  {
    const other = await plainLayer([file("x", "x")]);
    const wrong = await sha256("not the layer");
    const { files } = await ociFiles([shared, other], (c) => {
      c.rootfs.diff_ids[1] = wrong;
    });
    add({
      name: "diffid-mismatch",
      about: "a config whose diff_ids do not match the layer",
      bytes: await pack(files),
      code: "DIGEST_MISMATCH",
      message: new RegExp(`diffId: digest mismatch: expected ${wrong}, got ${other.diffId}`),
    });
  }
  {
    const { files, descs } = await ociFiles([shared, await plainLayer([file("x", "x")])]);
    const name = `blobs/sha256/${descs[1]!.digest.slice(7)}`;
    const swapped = await tar([file("x", "y")]);
    files.set(name, swapped);
    add({
      name: "blob-digest-mismatch",
      about: "a blob whose content does not hash to its name",
      bytes: await pack(files),
      code: "DIGEST_MISMATCH",
      message: new RegExp(
        `${name}: digest mismatch: expected ${descs[1]!.digest}, got ${await sha256(swapped)}`,
      ),
    });
  }
  {
    const { files, manifestDigest } = await ociFiles([shared]);
    const m = JSON.parse(new TextDecoder().decode(files.get(`blobs/sha256/${manifestDigest.slice(7)}`)));
    m.layers[0].size += 1;
    const mBytes = json(m);
    files.delete(`blobs/sha256/${manifestDigest.slice(7)}`);
    files.set(`blobs/sha256/${(await sha256(mBytes)).slice(7)}`, mBytes);
    files.set(
      "index.json",
      json({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            digest: await sha256(mBytes),
            size: mBytes.byteLength,
          },
        ],
      }),
    );
    add({
      name: "size-mismatch",
      about: "a manifest declaring a layer size the blob does not have",
      bytes: await pack(files),
      code: "ARCHIVE_INVALID",
      message: /is \d+ bytes but the manifest says \d+/,
    });
  }
  {
    const zeros = await tar([{ name: "zeros", size: 64 << 20, body: zeroStream(64 << 20) }]);
    const gz = new Uint8Array(gzipSync(zeros, { level: 9 }));
    const bomb: Layer = {
      blob: gz,
      diffId: await sha256(zeros),
      mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
    };
    add({
      name: "decompression-bomb",
      about: `a ${gz.byteLength}-byte gzip layer expanding to 64 MiB, against a 4 MiB limit`,
      bytes: await pack((await ociFiles([bomb])).files),
      code: "ARCHIVE_TOO_LARGE",
      message: /decompressed data exceeds the limit of 4194304 bytes/,
      limits: { maxLayerBytes: 4 << 20 },
    });
  }
  {
    // A header declaring a 4 GiB file, with no data behind it: refused before reading any.
    const header = await tar([{ name: "huge", size: 0, body: new Uint8Array(0) }]);
    const block = header.slice(0, 512);
    const size = te.encode((2 ** 32).toString(8).padStart(11, "0"));
    block.set(size, 124);
    block.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of block) sum += b;
    block.set(te.encode(`${sum.toString(8).padStart(6, "0")}\0 `), 148);
    const layer = new Uint8Array(512 * 3);
    layer.set(block, 0);
    const declared: Layer = {
      blob: layer,
      diffId: await sha256(layer),
      mediaType: "application/vnd.oci.image.layer.v1.tar",
    };
    add({
      name: "declared-bomb",
      about: "a layer entry declaring a 4 GiB file",
      bytes: await pack((await ociFiles([declared])).files),
      code: "ARCHIVE_TOO_LARGE",
      message: /huge: declares 4294967296 bytes, over the limit/,
      limits: { maxFileBytes: 1 << 30 },
    });
  }
  {
    const legacy = await tar([
      file(
        "manifest.json",
        JSON.stringify([{ Config: "c.json", RepoTags: ["x:1"], Layers: ["l/layer.tar"] }]),
      ),
      { name: "c.json", body: json(minimalConfig([real.diffId])) },
      { name: "l/layer.tar", type: "symlink", linkname: "../../../../etc/passwd" },
    ]);
    add({
      name: "outer-link-escape",
      about: "a legacy docker-save layer.tar symlink pointing outside the archive",
      bytes: legacy,
      code: "ARCHIVE_HOSTILE",
      message: /link points outside the archive/,
    });
  }
  return cases;
}

async function* zeroStream(n: number): AsyncGenerator<Uint8Array> {
  const chunk = new Uint8Array(1 << 20);
  for (let left = n; left > 0; left -= chunk.byteLength)
    yield left >= chunk.byteLength ? chunk : chunk.subarray(0, left);
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const out = process.argv[2];
  if (!out) {
    console.error("usage: tsx src/testdata/archives/hostile.ts OUT_DIR");
    process.exit(2);
  }
  for (const c of await hostileCases()) {
    writeFileSync(join(out, `${c.name}.tar`), c.bytes);
    console.log(`${c.name}.tar  ${c.about}`);
  }
}
