import { createHash } from "node:crypto";

import type { ApiClientConfig } from "../config.ts";

/**
 * The sha256 of an API key, lower-case hex: what the configuration stores instead of the key.
 *
 * @example
 * hashApiKey("s3cr3t"); // "4e738ca5563c06cfd0018299933d58db1dd8bf97f6973dc99bf6cdc64b5550bd"
 */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/**
 * Finds the client of an `Authorization: Bearer <key>` header; undefined for a missing or unknown key.
 *
 * @example
 * const authenticate = createAuthenticator(config.api.clients);
 * const client = authenticate(request.headers.authorization);
 */
export function createAuthenticator(
  clients: readonly ApiClientConfig[],
): (header: string | undefined) => ApiClientConfig | undefined {
  const byHash = new Map(clients.map((client) => [client.keySha256, client]));
  return (header) => {
    const match = header === undefined ? null : /^Bearer\s+(\S+)$/i.exec(header);
    return match?.[1] === undefined ? undefined : byHash.get(hashApiKey(match[1]));
  };
}
