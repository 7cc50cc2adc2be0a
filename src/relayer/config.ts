/**
 * The relayer's configuration, declared once: a JSON file, then environment variables on top, validated by one
 * zod schema and passed to every component. Secrets never live here: keys, passwords and webhook secrets are
 * named by the environment variable that holds them.
 */
import { readFile } from "node:fs/promises";

import { z } from "zod";

import { wireAddress } from "../protocol/wire.ts";
import { RelayerError } from "./errors.ts";

const int = (min: number, fallback: number, description: string) =>
  z.number().int().min(min).default(fallback).meta({ description });
const wei = (fallback: string, description: string) =>
  z
    .string()
    .regex(/^(0|[1-9][0-9]*)$/, { error: "must be a decimal integer string (wei)" })
    .default(fallback)
    .meta({ description });

const chainSchema = z
  .strictObject({
    rpcUrl: z.url().meta({ description: "JSON-RPC endpoint of the chain (HTTP or HTTPS)." }),
    chainId: z.number().int().positive().meta({ description: "Chain id; the relayer refuses another." }),
    ledger: wireAddress.meta({ description: "Address of the SettlementLedger." }),
    fx: wireAddress.optional().meta({
      description: "Address of the FxSettlement contract; without it cross-currency payments are refused.",
    }),
    confirmations: int(
      1,
      3,
      "Blocks a transaction must be deep (1 = included) before its outcome is final and reported.",
    ),
    pollIntervalMs: int(10, 250, "How often the chain head and in-flight transactions are checked."),
    rpcTimeoutMs: int(100, 10_000, "Timeout of one JSON-RPC request."),
    logLookbackBlocks: int(
      1,
      100_000,
      "How far back refunds and duplicate checks search `PaymentSettled` events.",
    ),
  })
  .meta({ description: "The chain and the ledger." });

const storeSchema = z
  .strictObject({
    kind: z.enum(["sqlite", "postgres"]).default("sqlite").meta({
      description: "`sqlite`: one instance, a file. `postgres`: several instances sharing one queue.",
    }),
    sqlitePath: z
      .string()
      .min(1)
      .default("./qrsettle-relayer.db")
      .meta({ description: "SQLite database file (`:memory:` for tests only)." }),
    sqliteSynchronous: z.enum(["full", "normal"]).default("full").meta({
      description:
        "`full`: a request is acknowledged only after its commit is fsync'ed (survives power loss). `normal`: after the commit (survives a crash of the process, not of the machine).",
    }),
    sqliteCommitIntervalMs: z.number().int().min(0).max(100).default(4).meta({
      description:
        "Under load, SQLite commits (each with its fsync) come at most this often, every request meanwhile in one; an idle store commits at once. 0: every turn of the event loop.",
    }),
    postgresUrl: z
      .string()
      .optional()
      .meta({ description: "PostgreSQL connection string; required for `postgres`. May hold a password." }),
    postgresSchema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: "must be a lower-case SQL identifier" })
      .default("qrsettle_relayer")
      .meta({ description: "Schema holding the relayer's tables; instances sharing a queue share it." }),
    postgresPoolSize: int(1, 10, "Connections per instance."),
  })
  .refine((store) => store.kind !== "postgres" || store.postgresUrl !== undefined, {
    error: "postgresUrl is required when kind is postgres",
    path: ["postgresUrl"],
  })
  .meta({ description: "The durable queue." });

const keystoreSchema = z.strictObject({
  path: z.string().min(1).meta({ description: "Encrypted (Web3 Secret Storage v3) keystore file." }),
  passwordEnv: z.string().min(1).meta({ description: "Environment variable holding its password." }),
});

const walletsSchema = z
  .strictObject({
    privateKeysEnv: z.string().min(1).default("QRSETTLE_RELAYER_KEYS").meta({
      description: "Environment variable holding comma-separated hex private keys of the hot wallets.",
    }),
    keystores: z.array(keystoreSchema).default([]).meta({
      description:
        "Encrypted (Web3 Secret Storage v3) keystores: `[{ path, passwordEnv }]`, each password read from `passwordEnv`.",
    }),
    maxInFlight: int(1, 4, "Transactions one wallet may have unconfirmed at once."),
    leaseSeconds: int(5, 30, "How long a wallet stays reserved for this instance without a renewal."),
  })
  .meta({ description: "The pool of hot wallets; each must be a relayer of the bank." });

const feesSchema = z
  .strictObject({
    mode: z.enum(["eip1559", "legacy", "zero"]).default("eip1559").meta({
      description: "`eip1559` (type 2), `legacy` (type 0, eth_gasPrice) or `zero` (gas price 0, e.g. Besu).",
    }),
    maxFeePerGas: wei("500000000000", "Cap on maxFeePerGas (eip1559) or gasPrice (legacy), in wei."),
    maxPriorityFeePerGas: wei("50000000000", "Cap on maxPriorityFeePerGas, in wei."),
    minPriorityFeePerGas: wei("100000000", "Floor on the priority fee the relayer offers, in wei."),
    baseFeeMultiplier: int(1, 2, "maxFeePerGas = next base fee × this + priority fee."),
    feeHistoryBlocks: int(1, 4, "Blocks of eth_feeHistory the priority fee is taken from."),
    rewardPercentile: int(0, 50, "Percentile of priority fees paid in those blocks."),
    bumpPercent: int(10, 15, "Replacement raises both fees by at least this much (nodes require 10)."),
    stallTimeoutMs: int(1_000, 30_000, "Unmined this long after its last send, a transaction is replaced."),
    rebroadcastIntervalMs: int(500, 10_000, "Unmined, the same signed bytes are re-sent this often."),
  })
  .meta({ description: "Gas price policy and replacement of stalled transactions." });

const batchSchema = z
  .strictObject({
    maxItems: int(1, 400, "Most payments in one settlePayments transaction."),
    windowMs: int(0, 250, "A batch goes out when it is full or its oldest payment waited this long."),
    gasCap: int(100_000, 16_777_216, "Most gas one transaction may take (EIP-7825: 16,777,216)."),
    gasLimit: z.enum(["estimate", "budget"]).default("estimate").meta({
      description:
        "`estimate`: eth_estimateGas plus the margin. `budget`: the per-item budgets below, no RPC call (batches of ECDSA-signed payments, same- or cross-currency; refunds and smart-account payers are estimated).",
    }),
    gasPerPayment: int(1, 30_000, "Gas budgeted per ECDSA payment when sizing a batch."),
    gasPerErc1271Payment: int(1, 260_000, "Gas budgeted per ERC-1271 (smart-account) payment."),
    gasPerRefund: int(1, 120_000, "Gas budgeted per refund."),
    gasMarginPercent: int(0, 20, "Added to eth_estimateGas's answer."),
    refundMaxItems: int(1, 50, "Most refunds in one refundPayments transaction."),
    maxAttempts: int(1, 5, "Batches a payment may be in whose transaction reverted before it fails."),
    fxMaxItems: int(1, 100, "Most cross-currency payments in one settleFxPayments transaction."),
    gasPerFxPayment: int(1, 150_000, "Gas budgeted per cross-currency payment when sizing a batch."),
  })
  .meta({ description: "Batching." });

const clientSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
  keySha256: z.string().regex(/^[0-9a-f]{64}$/, { error: "must be the sha256 of the key, lower-case hex" }),
  ratePerSecond: z.number().positive().default(500),
  burst: z.number().int().positive().default(1_000),
  webhookUrl: z.url().optional(),
  webhookSecretEnv: z.string().min(1).optional(),
});

const apiSchema = z
  .strictObject({
    host: z.string().default("127.0.0.1").meta({ description: "Address the HTTP API listens on." }),
    port: int(0, 8080, "Port of the HTTP API (0: any free port)."),
    maxBodyBytes: int(256, 16_384, "Largest request body accepted."),
    maxQueued: int(
      0,
      1_000,
      "Most accepted requests waiting for a batch (0: no limit); beyond it new submissions wait for room (backpressure), so an accepted payment goes out in one of the next batches.",
    ),
    queueWaitMs: int(1, 5_000, "How long a submission may wait for room in the queue before `QUEUE_FULL`."),
    auth: z.enum(["required", "none"]).default("required").meta({
      description: "`required`: every /v1 request needs `Authorization: Bearer <key>` of a client.",
    }),
    clients: z.array(clientSchema).default([]).meta({
      description:
        "API clients: `[{ id, keySha256, ratePerSecond?, burst?, webhookUrl?, webhookSecretEnv? }]`; the key is stored only as its sha256 (`qrsettle relayer hash-key`).",
    }),
  })
  .meta({ description: "The HTTP API." });

const validationSchema = z
  .strictObject({
    minDeadlineSeconds: int(0, 30, "A payment whose deadline is nearer than this is refused."),
    accountCacheMs: int(
      0,
      30_000,
      "How long an account or daily limit read from the ledger is reused; our own settlements are applied to it, and a refusal it would cause is confirmed by a fresh read.",
    ),
    recoveryWorkers: int(0, 0, "Worker threads recovering signers (0: on the main thread)."),
  })
  .meta({ description: "Checks before `202`." });

const webhooksSchema = z
  .strictObject({
    maxAttempts: int(1, 10, "Deliveries of one webhook before it is given up."),
    initialBackoffMs: int(10, 1_000, "Wait before the first retry; doubles each time."),
    maxBackoffMs: int(10, 600_000, "Longest wait between retries."),
    timeoutMs: int(100, 5_000, "Timeout of one delivery."),
  })
  .meta({ description: "Webhooks on final status." });

/** A currency pair as `FROM/TO` alphabetic ISO 4217 codes, e.g. `CNY/HKD`. */
const PAIR = /^[A-Z]{3}\/[A-Z]{3}$/;

const fxProviderSchema = z
  .strictObject({
    quoteKeyEnv: z.string().min(1).default("QRSETTLE_RELAYER_FX_QUOTE_KEY").meta({
      description:
        "Environment variable holding the hex private key that signs quotes; it must be a relayer key of this bank.",
    }),
    quoteKeystore: keystoreSchema.optional().meta({
      description: "Instead of `quoteKeyEnv`: an encrypted keystore `{ path, passwordEnv }`.",
    }),
    rates: z
      .record(
        z.string().regex(PAIR, { error: "must be a pair such as CNY/HKD" }),
        z.string().regex(/^\d+(\.\d+)?$/, { error: 'must be a decimal rate such as "1.0850"' }),
      )
      .meta({
        description: 'Rates quoted, per pair of major units: `{ "CNY/HKD": "1.0850" }` (1 CNY = 1.0850 HKD).',
      }),
    validitySeconds: int(10, 300, "How long a quote may be used after it is issued."),
    maxToAmount: z
      .string()
      .regex(/^[1-9][0-9]*$/, { error: "must be a positive decimal integer string" })
      .default("100000000")
      .meta({ description: "Most a quote may deliver, in minor units of the target currency." }),
  })
  .meta({ description: "This bank as an FX provider: it holds reserves in both currencies of each pair." });

const fxSourceSchema = z.strictObject({
  url: z.union([z.literal("self"), z.url()]).meta({
    description: "`self`, or the base URL of a provider bank's relayer.",
  }),
  apiKeyEnv: z.string().min(1).optional().meta({
    description: "Environment variable holding this relayer's API key at that provider.",
  }),
});

const fxSchema = z
  .strictObject({
    provider: fxProviderSchema.optional(),
    providers: z.array(fxSourceSchema).default([]).meta({
      description: 'Where `GET /v1/quotes` gets quotes: `[{ url: "self" | "https://…", apiKeyEnv? }]`.',
    }),
    quoteTimeoutMs: int(100, 3_000, "Timeout of one provider's answer to a quote request."),
  })
  .meta({ description: "Cross-currency payments (needs `chain.fx`)." });

const logSchema = z
  .strictObject({
    level: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
      .default("info")
      .meta({ description: "Log level (pino)." }),
  })
  .meta({ description: "Logging." });

const shutdownSchema = z
  .strictObject({
    drainTimeoutMs: int(0, 30_000, "On SIGTERM, how long to wait for in-flight transactions to finish."),
  })
  .meta({ description: "Graceful shutdown." });

/** The schema of the relayer's configuration file. */
export const relayerConfigSchema = z.strictObject({
  instanceId: z.string().min(1).max(64).optional().meta({
    description: "Name of this instance in leases and logs (default: host name and process id).",
  }),
  chain: chainSchema,
  store: storeSchema.prefault({}),
  wallets: walletsSchema.prefault({}),
  fees: feesSchema.prefault({}),
  batch: batchSchema.prefault({}),
  api: apiSchema.prefault({}),
  validation: validationSchema.prefault({}),
  webhooks: webhooksSchema.prefault({}),
  fx: fxSchema.prefault({}),
  log: logSchema.prefault({}),
  shutdown: shutdownSchema.prefault({}),
});

/** A validated configuration with every default filled in. */
export type RelayerConfig = z.output<typeof relayerConfigSchema>;
/** A configuration as written in a file: sections and keys with defaults may be left out. */
export type RelayerConfigInput = z.input<typeof relayerConfigSchema>;
/** An API client as configured. */
export type ApiClientConfig = RelayerConfig["api"]["clients"][number];

/** Prefix of every environment variable that overrides a configuration key. */
export const ENV_PREFIX = "QRSETTLE_RELAYER_";

/** One configuration key as documentation and environment overrides see it. */
export interface ConfigKey {
  /** Dotted path, e.g. `chain.rpcUrl`. */
  path: string[];
  /** JSON type: string, integer, number, boolean, array or object. */
  type: string;
  /** Allowed values, for enums. */
  values?: readonly string[];
  default?: unknown;
  description: string;
  /** The environment variable that overrides it. */
  env: string;
}

function screamingSnake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

/**
 * Every key of the configuration, in declaration order, with its type, default, description and environment
 * variable. Nested objects are walked; arrays are single keys (their environment value is JSON).
 *
 * @example
 * configKeys().find((key) => key.path.join(".") === "chain.rpcUrl")?.env; // "QRSETTLE_RELAYER_CHAIN_RPC_URL"
 */
export function configKeys(): ConfigKey[] {
  type JsonSchema = {
    type?: string;
    enum?: string[];
    default?: unknown;
    description?: string;
    properties?: Record<string, JsonSchema>;
    anyOf?: JsonSchema[];
  };
  const root = z.toJSONSchema(relayerConfigSchema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const keys: ConfigKey[] = [];
  const walk = (schema: JsonSchema, path: string[]) => {
    for (const [name, child] of Object.entries(schema.properties ?? {})) {
      const childPath = [...path, name];
      if (child.type === "object" && child.properties !== undefined) {
        walk(child, childPath);
        continue;
      }
      keys.push({
        path: childPath,
        type: child.type ?? child.anyOf?.map((option) => option.type).join(" | ") ?? "string",
        ...(child.enum === undefined ? {} : { values: child.enum }),
        ...(child.default === undefined ? {} : { default: child.default }),
        description: child.description ?? "",
        env: ENV_PREFIX + childPath.map(screamingSnake).join("_"),
      });
    }
  };
  walk(root, []);
  return keys;
}

function envValue(key: ConfigKey, raw: string): unknown {
  switch (key.type) {
    case "integer":
    case "number":
      return raw.trim() === "" ? raw : Number(raw);
    case "boolean":
      return raw === "true" ? true : raw === "false" ? false : raw;
    case "array":
    case "object":
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        throw new RelayerError("CONFIG_INVALID", `${key.env} must be JSON.`, {
          details: { variable: key.env },
        });
      }
    default:
      return raw;
  }
}

/**
 * Applies `QRSETTLE_RELAYER_*` environment variables on top of a configuration object (not yet validated).
 *
 * @example
 * applyEnvOverrides({ chain: { rpcUrl: "http://a" } }, { QRSETTLE_RELAYER_CHAIN_RPC_URL: "http://b" });
 */
export function applyEnvOverrides(input: unknown, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const result = structuredClone((input ?? {}) as Record<string, unknown>);
  for (const key of configKeys()) {
    const raw = env[key.env];
    if (raw === undefined) continue;
    let node = result;
    for (const segment of key.path.slice(0, -1)) {
      const next = node[segment];
      if (typeof next !== "object" || next === null) node[segment] = {};
      node = node[segment] as Record<string, unknown>;
    }
    node[key.path[key.path.length - 1] as string] = envValue(key, raw);
  }
  return result;
}

/**
 * Validates a configuration object, throwing `CONFIG_INVALID` with every problem and where it is.
 *
 * @example
 * const config = parseRelayerConfig({ chain: { rpcUrl, chainId: 31337, ledger } });
 */
export function parseRelayerConfig(input: unknown): RelayerConfig {
  const result = relayerConfigSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`,
    );
    throw new RelayerError("CONFIG_INVALID", `Invalid relayer configuration:\n  ${problems.join("\n  ")}`);
  }
  return result.data;
}

/**
 * Reads a JSON configuration file (optional), applies environment overrides and validates the result.
 *
 * @example
 * const config = await loadRelayerConfig("relayer.json", process.env);
 */
export async function loadRelayerConfig(
  file: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<RelayerConfig> {
  let fromFile: unknown = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      throw new RelayerError("CONFIG_UNREADABLE", `Cannot read the configuration file ${file}.`, {
        cause: error,
      });
    }
    try {
      fromFile = JSON.parse(text) as unknown;
    } catch (error) {
      throw new RelayerError("CONFIG_INVALID", `The configuration file ${file} is not valid JSON.`, {
        cause: error,
      });
    }
  }
  return parseRelayerConfig(applyEnvOverrides(fromFile, env));
}
