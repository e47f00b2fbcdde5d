import { expect, it } from "vitest";
import { createReusableSha256, setSha256Provider, sha256, wasmSha256 } from "../core/digest.ts";
import { nodeSha256 } from "./node-sha256.ts";

it("Node's sha256 gives the digests the WebAssembly one gives", async () => {
  const data = new TextEncoder().encode("layers all the way down\n".repeat(1000));
  const wasm = await sha256(data);
  const r1 = await createReusableSha256();
  r1.init();
  r1.update(data);
  const wasmHex = r1.hex();
  setSha256Provider(nodeSha256);
  try {
    expect(await sha256(data)).toBe(wasm);
    const r2 = await createReusableSha256();
    r2.init();
    r2.update(data.subarray(0, 7));
    r2.update(data.subarray(7));
    expect(r2.hex()).toBe(wasmHex);
    r2.init();
    r2.update(new Uint8Array(0));
    expect(r2.hex()).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  } finally {
    setSha256Provider(wasmSha256);
  }
});
