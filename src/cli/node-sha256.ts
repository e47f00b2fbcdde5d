import { createHash, type Hash } from "node:crypto";
import type { Sha256Provider } from "../core/digest.ts";

/** Node's native sha256 (OpenSSL) for the core, in the shape the core asks for. */
export const nodeSha256: Sha256Provider = {
  async create() {
    const h = createHash("sha256");
    return { update: (b) => void h.update(b), finish: () => `sha256:${h.digest("hex")}` };
  },
  async reusable() {
    let h: Hash = createHash("sha256");
    return {
      init: () => {
        h = createHash("sha256");
      },
      update: (b) => void h.update(b),
      hex: () => h.digest("hex"),
    };
  },
};
