import { describe, expect, it } from "vitest";
import { parseChallenges, readTokenResponse } from "./auth.ts";
import { retryAfterMs } from "./client.ts";
import {
  familiarReference,
  formatReference,
  InvalidReferenceError,
  isLoopbackHost,
  parseReference,
  registryHost,
} from "./reference.ts";

const D = `sha256:${"a".repeat(64)}`;

// Cases from Docker's reference grammar (distribution/reference normalize.go and reference.go):
// [input, full form, familiar form].
const GOOD: [string, string, string][] = [
  ["ubuntu", "docker.io/library/ubuntu:latest", "ubuntu:latest"],
  ["ubuntu:20.04", "docker.io/library/ubuntu:20.04", "ubuntu:20.04"],
  ["library/ubuntu:20.04", "docker.io/library/ubuntu:20.04", "ubuntu:20.04"],
  ["docker.io/ubuntu", "docker.io/library/ubuntu:latest", "ubuntu:latest"],
  ["index.docker.io/library/ubuntu:1", "docker.io/library/ubuntu:1", "ubuntu:1"],
  ["dmcgowan/myapp", "docker.io/dmcgowan/myapp:latest", "dmcgowan/myapp:latest"],
  ["docker.io/library/foo/bar", "docker.io/library/foo/bar:latest", "library/foo/bar:latest"],
  ["localhost/demo", "localhost/demo:latest", "localhost/demo:latest"],
  ["localhost:5000/demo:1", "localhost:5000/demo:1", "localhost:5000/demo:1"],
  ["127.0.0.1:5000/a/b/c:v1.2", "127.0.0.1:5000/a/b/c:v1.2", "127.0.0.1:5000/a/b/c:v1.2"],
  [`ghcr.io/owner/app@${D}`, `ghcr.io/owner/app@${D}`, `ghcr.io/owner/app@${D}`],
  [`quay.io/a/b:tag@${D}`, `quay.io/a/b:tag@${D}`, `quay.io/a/b:tag@${D}`],
  ["Foo.example.com/x", "Foo.example.com/x:latest", "Foo.example.com/x:latest"],
  ["a__b/c-d---e.f_g", "docker.io/a__b/c-d---e.f_g:latest", "a__b/c-d---e.f_g:latest"],
  ["[::1]:5000/x:y", "[::1]:5000/x:y", "[::1]:5000/x:y"],
  [`host:443/x:${"t".repeat(128)}`, `host:443/x:${"t".repeat(128)}`, `host:443/x:${"t".repeat(128)}`],
];

const BAD: [string, RegExp][] = [
  ["", /empty/],
  ["Ubuntu", /lowercase/],
  ["docker.io/Library/ubuntu", /lowercase/],
  ["a".repeat(64).replace(/a/g, "f"), /image ID/],
  ["ubuntu:", /not a valid tag/],
  ["ubuntu:.x", /not a valid tag/],
  [`ubuntu:${"t".repeat(129)}`, /not a valid tag/],
  ["ubuntu@sha256:abc", /not a digest/],
  [`ubuntu@sha512:${"a".repeat(128)}`, /only sha256/],
  ["a/-b", /not a valid repository name/],
  ["a//b", /not a valid repository name/],
  ["a/b_", /not a valid repository name/],
  ["a/b___c", /not a valid repository name/],
  ["-host.io/x", /not a valid registry host/],
  ["localhost:5000/", /no repository name/],
  [":tag", /no repository name/],
  [`x.io/${"a".repeat(260)}`, /longer than 255/],
];

describe("parseReference", () => {
  it.each(GOOD)("%s", (input, full, familiar) => {
    const r = parseReference(input);
    expect(formatReference(r)).toBe(full);
    expect(familiarReference(r)).toBe(familiar);
  });
  it.each(BAD)("refuses '%s'", (input, why) => {
    expect(() => parseReference(input)).toThrow(InvalidReferenceError);
    expect(() => parseReference(input)).toThrow(why);
  });
  it("reaches docker.io at registry-1.docker.io and loopback over plain HTTP", () => {
    expect(registryHost(parseReference("ubuntu").domain)).toBe("registry-1.docker.io");
    expect(registryHost("ghcr.io")).toBe("ghcr.io");
    for (const h of ["localhost:5000", "127.0.0.1:80", "[::1]:5000", "localhost", "a.localhost"])
      expect(isLoopbackHost(h)).toBe(true);
    for (const h of ["ghcr.io", "localhost.example.com", "10.0.0.1:5000", "128.0.0.1"])
      expect(isLoopbackHost(h)).toBe(false);
  });
});

describe("WWW-Authenticate", () => {
  it("reads a bearer challenge with quoted values and several scopes", () => {
    const c = parseChallenges(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull",scope="repository:a/b:pull,push"',
    );
    expect(c).toEqual([
      {
        scheme: "bearer",
        params: {
          realm: "https://auth.docker.io/token",
          service: "registry.docker.io",
          scope: "repository:library/ubuntu:pull repository:a/b:pull,push",
        },
      },
    ]);
  });
  it("reads several challenges and basic", () => {
    const c = parseChallenges(
      'Basic realm="Registry Realm", Bearer realm="http://127.0.0.1:1/t",error="invalid_token"',
    );
    expect(c.map((x) => x.scheme)).toEqual(["basic", "bearer"]);
    expect(c[1]!.params).toEqual({ realm: "http://127.0.0.1:1/t", error: "invalid_token" });
  });
  it("reads token or access_token with its expiry", () => {
    expect(readTokenResponse({ token: "t", expires_in: 300 }, 1000)).toEqual({
      token: "t",
      expiresAt: 301_000,
    });
    expect(readTokenResponse({ access_token: "u" }, 0)).toEqual({ token: "u", expiresAt: 60_000 });
    expect(readTokenResponse({}, 0)).toBeUndefined();
  });
  it("reads Retry-After as seconds or a date", () => {
    expect(retryAfterMs("3", 0)).toBe(3000);
    expect(retryAfterMs("Thu, 01 Jan 1970 00:00:10 GMT", 4000)).toBe(6000);
    expect(retryAfterMs(null, 0)).toBeUndefined();
  });
});

describe("reference parsing stays linear", () => {
  it("refuses a long name that fails at its end at once (Docker's `[-]*` separator backtracked exponentially here)", () => {
    // With the old pattern, 26 letters took over a second and each one more doubled it: this
    // test would not end. Now it is refused at once, and dashed names still parse.
    expect(() => parseReference(`${"a".repeat(60)}!`)).toThrow(/invalid reference/);
    expect(parseReference("a-b--c__d/e.f").repository).toBe("a-b--c__d/e.f");
    expect(() => parseReference("a-/b")).toThrow(/invalid reference/);
  });
});
