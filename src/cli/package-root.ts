/** Set by the CLI's build (vite.cli.config.ts) to where the package root is from the bundle's folder. */
declare const __LAYERLAB_PACKAGE_ROOT__: string | undefined;

/**
 * The package's root folder (where package.json and public/ are), as a URL. From the sources it is
 * two folders above src/cli/; from the built CLI (every chunk in dist-cli/) it is one above.
 */
export const packageRoot: URL = new URL(
  typeof __LAYERLAB_PACKAGE_ROOT__ === "string" ? __LAYERLAB_PACKAGE_ROOT__ : "../../",
  import.meta.url,
);
