import { describe, expect, it } from "vitest";
import { EMBEDDED_REGISTRY_HOST, pageEndpoint, proxiedHost } from "./endpoints.ts";
import { parseReference, registryHost } from "./reference.ts";

describe("where the page reaches a registry", () => {
  const origin = "http://localhost:4173";
  it("reaches Docker Hub, ghcr.io and quay.io through the same-origin proxy", () => {
    expect(pageEndpoint(registryHost(parseReference("ubuntu:20.04").domain), origin)).toBe(
      "http://localhost:4173/registry-proxy/registry-1.docker.io",
    );
    expect(pageEndpoint("ghcr.io", origin)).toBe("http://localhost:4173/registry-proxy/ghcr.io");
    expect(pageEndpoint("QUAY.io", origin)).toBe("http://localhost:4173/registry-proxy/quay.io");
    expect(pageEndpoint("ghcr.io", origin, false)).toBeUndefined();
  });

  it("reaches the embedded registry at its own path, and every other host directly", () => {
    const ref = parseReference(`${EMBEDDED_REGISTRY_HOST}/example:v1`);
    expect(ref.domain).toBe(EMBEDDED_REGISTRY_HOST);
    expect(pageEndpoint(registryHost(ref.domain), origin)).toBe("http://localhost:4173/embedded-registry");
    expect(pageEndpoint("localhost:5000", origin)).toBeUndefined();
    expect(pageEndpoint("registry.example.com", origin)).toBeUndefined();
  });

  it("never treats a blob or auth host as a registry to send manifests to", () => {
    expect(proxiedHost("auth.docker.io")?.role).toBe("auth");
    expect(pageEndpoint("auth.docker.io", origin)).toBeUndefined();
    expect(proxiedHost("evil.example")).toBeUndefined();
  });
});
