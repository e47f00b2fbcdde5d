import { type Descriptor, formatPlatform } from "../image/oci.ts";

/**
 * Picks one manifest of an index as the import does: the requested platform (`os/arch[/variant]`),
 * else linux/amd64, else the first with a real platform. Attestation manifests (platform
 * `unknown/unknown`) are never chosen. Returns undefined, with the platforms present, when the
 * requested one is missing.
 */
export function choosePlatform(
  manifests: readonly Descriptor[],
  requested: string | undefined,
): { chosen: Descriptor | undefined; present: string[] } {
  const real = manifests.filter(
    (d) => !d.platform || (d.platform.os !== "unknown" && d.platform.architecture !== "unknown"),
  );
  const present = real.filter((d) => d.platform).map((d) => formatPlatform(d.platform!));
  const withPlatform = real.filter((d) => d.platform);
  if (withPlatform.length === 0) return { chosen: real[0], present };
  const matches = (d: Descriptor, want: string) => {
    const [os, arch, variant] = want.split("/");
    return (
      d.platform!.os === os &&
      d.platform!.architecture === arch &&
      (!variant || d.platform!.variant === variant)
    );
  };
  for (const want of requested ? [requested] : ["linux/amd64"]) {
    const hit =
      withPlatform.find((d) => formatPlatform(d.platform!) === want) ??
      withPlatform.find((d) => matches(d, want));
    if (hit) return { chosen: hit, present };
  }
  return { chosen: requested ? undefined : withPlatform[0], present };
}
