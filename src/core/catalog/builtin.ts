import type { BaseImageInfo, CatalogIndex } from "./types.ts";

/**
 * Docker's short form of an image reference: "docker.io/library/ubuntu:20.04" and
 * "library/ubuntu:20.04" → "ubuntu:20.04"; a missing tag is "latest". Digests are left as given.
 */
export function normalizeImageName(ref: string): string {
  let name = ref.trim();
  for (const prefix of ["docker.io/library/", "index.docker.io/library/", "docker.io/", "library/"]) {
    if (name.startsWith(prefix)) {
      name = name.slice(prefix.length);
      break;
    }
  }
  if (name.includes("@")) return name;
  const lastSlash = name.lastIndexOf("/");
  return name.indexOf(":", lastSlash + 1) < 0 ? `${name}:latest` : name;
}

/** The built-in base a FROM reference names, if LayerLab ships one under that name. */
export function findBuiltinBase(index: CatalogIndex, ref: string): BaseImageInfo | undefined {
  const want = normalizeImageName(ref);
  return index.bases.find((b) => normalizeImageName(b.name) === want);
}
