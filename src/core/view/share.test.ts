import { expect, it } from "vitest";
import { decodeSharedDockerfile, encodeSharedDockerfile } from "./share.ts";

it("a Dockerfile round-trips through a URL fragment, compressed", () => {
  const text = `FROM ubuntu:20.04\nRUN apt-get update && apt-get install -y python3\nCOPY . /app\n# ♥ ☃\n${"RUN echo hi\n".repeat(50)}`;
  const frag = encodeSharedDockerfile(text);
  expect(frag).toMatch(/^df=[A-Za-z0-9_-]+$/);
  expect(frag.length).toBeLessThan(text.length);
  expect(decodeSharedDockerfile(`#${frag}`)).toBe(text);
});

it("a damaged or foreign fragment gives nothing rather than an error", () => {
  expect(decodeSharedDockerfile("#df=@@@")).toBeUndefined();
  expect(decodeSharedDockerfile("#image=abc")).toBeUndefined();
  expect(decodeSharedDockerfile("")).toBeUndefined();
});
