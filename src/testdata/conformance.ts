/**
 * Where the tests find BuildKit's conformance data (its Dockerfile parser and shell-lexer test
 * files, which are not copied into this repository): the folder `LAYERLAB_CONFORMANCE_DIR` names,
 * or `.conformance/buildkit` in the repository, which `npm run conformance:get` fills from
 * BuildKit itself (src/devtools/get-conformance.sh). Without either, the suites that need it are
 * skipped and vitest's global setup prints CONFORMANCE_HINT once.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The git-ignored folder `npm run conformance:get` fills. */
export const LOCAL_CONFORMANCE_DIR: string = fileURLToPath(
  new URL("../../.conformance/buildkit", import.meta.url),
);

/** The one line printed when the data is missing. */
export const CONFORMANCE_HINT =
  "BuildKit conformance suites skipped: no data in .conformance/buildkit; get it with `npm run conformance:get` (or point LAYERLAB_CONFORMANCE_DIR at a copy)";

/**
 * The conformance data folder, or undefined when there is none. A LAYERLAB_CONFORMANCE_DIR that
 * does not hold the data is an error, not a skip: whoever set it expects every case to run.
 */
export function conformanceDir(): string | undefined {
  const fromEnv = process.env.LAYERLAB_CONFORMANCE_DIR;
  if (fromEnv) {
    if (!existsSync(`${fromEnv}/parser/testfiles`)) {
      throw new Error(
        `LAYERLAB_CONFORMANCE_DIR=${fromEnv} holds no BuildKit conformance data (no parser/testfiles in it)`,
      );
    }
    return fromEnv;
  }
  return existsSync(`${LOCAL_CONFORMANCE_DIR}/parser/testfiles`) ? LOCAL_CONFORMANCE_DIR : undefined;
}
