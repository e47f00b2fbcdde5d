/** vitest global setup: says once, before the run, when the conformance suites will be skipped. */
import { CONFORMANCE_HINT, conformanceDir } from "./conformance.ts";

export default function setup(): void {
  if (!conformanceDir()) console.log(CONFORMANCE_HINT);
}
