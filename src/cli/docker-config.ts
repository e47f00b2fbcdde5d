/**
 * Credentials as `docker login` left them: `$DOCKER_CONFIG/config.json` (default
 * `~/.docker/config.json`), its `auths` map of registry to base64 `user:password`.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Credentials, CredentialsProvider } from "../core/registry/auth.ts";
import { DOCKER_HUB } from "../core/registry/reference.ts";

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>;
}

/** The registry a config key names: `https://index.docker.io/v1/` → docker.io, `localhost:5000` as is. */
export function registryOfConfigKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "");
  return host === "index.docker.io" || host === "registry-1.docker.io" ? DOCKER_HUB : host;
}

/** Reads the credentials of every registry in the Docker config; an empty map when there is none. */
export function readDockerConfig(
  env: NodeJS.ProcessEnv = process.env,
  home = homedir(),
): Map<string, Credentials> {
  const path = join(env.DOCKER_CONFIG ?? join(home, ".docker"), "config.json");
  let doc: DockerConfig;
  try {
    doc = JSON.parse(readFileSync(path, "utf8")) as DockerConfig;
  } catch {
    return new Map();
  }
  const out = new Map<string, Credentials>();
  for (const [key, entry] of Object.entries(doc.auths ?? {})) {
    let creds: Credentials | undefined;
    if (entry?.auth) {
      const text = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = text.indexOf(":");
      if (colon > 0) creds = { username: text.slice(0, colon), password: text.slice(colon + 1) };
    } else if (entry?.username && entry.password)
      creds = { username: entry.username, password: entry.password };
    if (creds) out.set(registryOfConfigKey(key), creds);
  }
  return out;
}

/** Credentials given on the command line for one registry, else those of the Docker config. */
export function cliCredentials(
  given: { registry: string; credentials: Credentials } | undefined,
): CredentialsProvider {
  const config = readDockerConfig();
  return {
    get: async (registry) =>
      given && given.registry === registry ? given.credentials : config.get(registry),
  };
}
