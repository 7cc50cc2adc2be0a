/**
 * `qrsettle relayer`: runs a bank's relayer and the operator commands around it. Exit codes: 0 success,
 * 1 failure (bad configuration, unreachable chain, wrong password…), 2 usage error.
 */
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";

import type { Hex } from "viem";
import { privateKeyToAddress } from "viem/accounts";

import { QRSettleError } from "../protocol/errors.ts";
import { hashApiKey } from "../relayer/api/auth.ts";
import { openApiDocument } from "../relayer/api/openApi.ts";
import { ROUTES } from "../relayer/api/routes.ts";
import { encryptKeystore } from "../relayer/chain/keystore.ts";
import { loadRelayerConfig, type RelayerConfig } from "../relayer/config.ts";
import { renderApiReference, renderConfigReference } from "../relayer/docs/referenceMarkdown.ts";
import { startRelayer } from "../relayer/relayer.ts";
import { createStore } from "../relayer/store/createStore.ts";

/** Where the command writes. */
export interface RelayerCommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const USAGE = `Usage: qrsettle relayer <command> [options]

Commands:
  start --config <file>          run the relayer until SIGTERM or SIGINT, then drain and stop
  status --config <file>         queue counts by status and each hot wallet's nonce and lease, from the store
  check-config --config <file>   validate the file plus QRSETTLE_RELAYER_* variables; print the result
  hash-key [<key>] [--generate]  the sha256 of an API key for api.clients[].keySha256 (--generate: a new key)
  keystore create --out <file> [--key-env <VAR>] [--password-env <VAR>] [--scrypt-n <N>]
                                 encrypt the private key in $VAR (default QRSETTLE_RELAYER_KEY) under the
                                 password in $VAR (default QRSETTLE_KEYSTORE_PASSWORD)
  keystore address <file>        the address of a keystore, without decrypting it
  openapi                        print the HTTP API's OpenAPI document
  docs                           print the generated configuration and API reference (markdown)

Environment variables override configuration keys: see \`qrsettle relayer docs\`.
Exit codes: 0 success, 1 failure, 2 usage error.`;

class UsageError extends Error {
  override name = "UsageError";
}

function configOption(argv: string[]): string {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: "string", short: "c" } },
    strict: true,
  });
  if (values.config === undefined) throw new UsageError("--config <file> is required.");
  return values.config;
}

/** Runs the relayer until a signal, then drains; resolves with the exit code. */
async function start(config: RelayerConfig, io: RelayerCommandIo): Promise<number> {
  const relayer = await startRelayer(config);
  io.stderr(`relayer for bank ${relayer.bankId} listening on ${relayer.url}`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => {
      resolve("SIGTERM");
    });
    process.once("SIGINT", () => {
      resolve("SIGINT");
    });
  });
  io.stderr(`${signal}: draining (a second signal stops at once)`);
  const force = () => process.exit(EXIT.failed);
  process.once("SIGTERM", force);
  process.once("SIGINT", force);
  await relayer.stop();
  return EXIT.ok;
}

async function status(config: RelayerConfig, io: RelayerCommandIo): Promise<number> {
  const store = await createStore(config.store, new Set());
  try {
    await store.init({ chainId: config.chain.chainId, ledger: config.chain.ledger });
    const counts = await store.countByStatus();
    const wallets = await store.walletStates();
    const open = await store.openTransactions(wallets.map((wallet) => wallet.address));
    const now = Date.now();
    io.stdout(
      JSON.stringify(
        {
          requests: counts,
          openTransactions: open.length,
          wallets: wallets.map((wallet) => ({
            ...wallet,
            leased: wallet.leaseOwner !== undefined && wallet.leaseUntil > now,
            openTransactions: open.filter((transaction) => transaction.wallet === wallet.address).length,
          })),
        },
        null,
        2,
      ),
    );
    return EXIT.ok;
  } finally {
    await store.close();
  }
}

async function keystore(argv: string[], io: RelayerCommandIo): Promise<number> {
  const [action, ...rest] = argv;
  if (action === "address") {
    const [file] = rest;
    if (file === undefined) throw new UsageError("keystore address <file>");
    const { address } = JSON.parse(await readFile(file, "utf8")) as { address?: string };
    if (address === undefined)
      throw new QRSettleError("KEYSTORE_INVALID", "The keystore has no address field.");
    io.stdout(`0x${address.replace(/^0x/, "")}`);
    return EXIT.ok;
  }
  if (action !== "create") throw new UsageError("keystore create | keystore address");
  const { values } = parseArgs({
    args: rest,
    options: {
      out: { type: "string" },
      "key-env": { type: "string", default: "QRSETTLE_RELAYER_KEY" },
      "password-env": { type: "string", default: "QRSETTLE_KEYSTORE_PASSWORD" },
      "scrypt-n": { type: "string", default: "262144" },
    },
    strict: true,
  });
  if (values.out === undefined) throw new UsageError("keystore create needs --out <file>.");
  const key = process.env[values["key-env"]];
  const password = process.env[values["password-env"]];
  if (key === undefined || !/^0x[0-9a-fA-F]{64}$/.test(key)) {
    throw new QRSettleError(
      "KEY_INVALID",
      `Set ${values["key-env"]} to a 0x-prefixed 32-byte hex private key.`,
    );
  }
  if (password === undefined || password === "") {
    throw new QRSettleError("KEYS_MISSING", `Set ${values["password-env"]} to the keystore's password.`);
  }
  await writeFile(values.out, encryptKeystore(key as Hex, password, Number(values["scrypt-n"])), {
    mode: 0o600,
  });
  io.stdout(privateKeyToAddress(key as Hex));
  return EXIT.ok;
}

/**
 * Runs `qrsettle relayer <command>` with `argv` (after "relayer") and returns the exit code.
 *
 * @example
 * process.exitCode = await runRelayerCommand(["start", "--config", "relayer.json"], {
 *   stdout: (text) => process.stdout.write(`${text}\n`),
 *   stderr: (text) => process.stderr.write(`${text}\n`),
 * });
 */
export async function runRelayerCommand(argv: string[], io: RelayerCommandIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "start":
        return await start(await loadRelayerConfig(configOption(rest), process.env), io);
      case "status":
        return await status(await loadRelayerConfig(configOption(rest), process.env), io);
      case "check-config": {
        const config = await loadRelayerConfig(configOption(rest), process.env);
        const shown = {
          ...config,
          store: { ...config.store, postgresUrl: config.store.postgresUrl && "(set)" },
        };
        io.stdout(JSON.stringify(shown, null, 2));
        return EXIT.ok;
      }
      case "hash-key": {
        const { values, positionals } = parseArgs({
          args: rest,
          options: { generate: { type: "boolean" } },
          allowPositionals: true,
          strict: true,
        });
        const key = values.generate === true ? randomBytes(32).toString("base64url") : positionals[0];
        if (key === undefined) throw new UsageError("hash-key <key> or hash-key --generate");
        io.stdout(
          values.generate === true ? JSON.stringify({ key, keySha256: hashApiKey(key) }) : hashApiKey(key),
        );
        return EXIT.ok;
      }
      case "keystore":
        return await keystore(rest, io);
      case "openapi":
        io.stdout(JSON.stringify(openApiDocument(ROUTES, "0.1.0"), null, 2));
        return EXIT.ok;
      case "docs":
        io.stdout(
          `## Configuration keys\n\n${renderConfigReference()}\n## HTTP API\n\n${renderApiReference(openApiDocument(ROUTES, "0.1.0"))}`,
        );
        return EXIT.ok;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.stdout(USAGE);
        return command === undefined ? EXIT.usage : EXIT.ok;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS"))
    ) {
      io.stderr(`qrsettle relayer: ${error.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    if (error instanceof QRSettleError) {
      io.stderr(`qrsettle relayer: ${error.message}`);
      return EXIT.failed;
    }
    io.stderr(`qrsettle relayer: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.failed;
  }
}
