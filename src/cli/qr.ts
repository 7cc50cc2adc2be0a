import { readFile, writeFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { parseArgs, type ParseArgsConfig } from "node:util";

import { getCurrency } from "../protocol/currencies.ts";
import { decodeQrImage } from "../qr/decodeQrImage.ts";
import { encodeQrSettleRequest, type EncodeQrSettleRequestOptions } from "../qr/encodeQrSettleRequest.ts";
import { QrError } from "../qr/errors.ts";
import { type EmvQrInspection, inspectEmvQr } from "../qr/inspectEmvQr.ts";
import type { QrSettleRequest } from "../qr/qrSettleRequest.ts";
import { renderQrPng } from "../qr/renderQrPng.ts";
import { renderQrSvg } from "../qr/renderQrSvg.ts";
import { renderQrTerminal } from "../qr/renderQrTerminal.ts";
import { toEip681Uri } from "../qr/toEip681Uri.ts";
import type { AdditionalDataInput, MerchantAccountInput } from "../qr/types.ts";

/** Where the command writes; the real CLI passes process streams, tests pass collectors. */
export type QrCommandIo = {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
};

/**
 * Exit codes: 0 valid, 1 invalid payload or request, 2 usage error.
 *
 * @example
 * if ((await runQrCommand(argv, io)) === QrExitCode.usage) process.stderr.write("see qrsettle qr help\n");
 */
export const QrExitCode = { valid: 0, invalid: 1, usage: 2 } as const;

const USAGE = `Usage:
  qrsettle qr encode --chain-id <id> --ledger <0x…> --payee-bank <uint16> --payee <0x…>
                     --currency <ISO 4217, e.g. HKD or 344> (--amount <decimal> | --static)
                     --merchant-name <name> --merchant-city <city> --country <CC> --mcc <nnnn>
                     [--reference <text>] [--expiry <unix seconds>] [--postal-code <code>]
                     [--alt-language <ll> --alt-name <name> [--alt-city <city>]]
                     [--account <ID>=<raw value>]...  other networks' accounts (02-51), as in decode's "flat"
                     [--bill-number <v>] [--mobile-number <v>] [--store-label <v>] [--loyalty-number <v>]
                     [--customer-label <v>] [--terminal-label <v>] [--purpose <v>]
                     [--consumer-data-request <AME>] [--merchant-tax-id <v>] [--merchant-channel <nnn>]
                     [--png <file>] [--svg <file>] [--terminal] [--eip681] [--json]
  qrsettle qr decode (<payload> | --image <png or jpeg file>) [--now <unix seconds>] [--json]

Exit codes: 0 valid, 1 invalid, 2 usage error.
`;

/** A command-line mistake: wrong flags or values that cannot be parsed. Exit code 2. */
class UsageError extends Error {
  override name = "UsageError";
}

const ENCODE_OPTIONS = {
  "chain-id": { type: "string" },
  ledger: { type: "string" },
  "payee-bank": { type: "string" },
  payee: { type: "string" },
  currency: { type: "string" },
  amount: { type: "string" },
  static: { type: "boolean" },
  "merchant-name": { type: "string" },
  "merchant-city": { type: "string" },
  country: { type: "string" },
  mcc: { type: "string" },
  reference: { type: "string" },
  expiry: { type: "string" },
  "postal-code": { type: "string" },
  "alt-language": { type: "string" },
  "alt-name": { type: "string" },
  "alt-city": { type: "string" },
  account: { type: "string", multiple: true },
  "bill-number": { type: "string" },
  "mobile-number": { type: "string" },
  "store-label": { type: "string" },
  "loyalty-number": { type: "string" },
  "customer-label": { type: "string" },
  "terminal-label": { type: "string" },
  purpose: { type: "string" },
  "consumer-data-request": { type: "string" },
  "merchant-tax-id": { type: "string" },
  "merchant-channel": { type: "string" },
  png: { type: "string" },
  svg: { type: "string" },
  terminal: { type: "boolean" },
  eip681: { type: "boolean" },
  json: { type: "boolean" },
} as const satisfies ParseArgsConfig["options"];

const DECODE_OPTIONS = {
  image: { type: "string" },
  now: { type: "string" },
  json: { type: "boolean" },
} as const satisfies ParseArgsConfig["options"];

function parse<options extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: options) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === "") throw new UsageError(`--${flag} is required.`);
  return value;
}

function unsignedInteger(value: string, flag: string): bigint {
  if (!/^\d+$/.test(value)) throw new UsageError(`--${flag} must be a non-negative integer, not "${value}".`);
  return BigInt(value);
}

function hexAddress(value: string, flag: string): `0x${string}` {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) throw new UsageError(`--${flag} must be "0x" and 40 hex digits.`);
  return value as `0x${string}`;
}

function accounts(values: readonly string[]): MerchantAccountInput[] {
  return values.map((entry) => {
    const match = /^(\d{2})=(.+)$/s.exec(entry);
    if (match?.[1] === undefined || match[2] === undefined) {
      throw new UsageError(`--account must be <ID>=<raw value>, e.g. 15=<31 characters>, not "${entry}".`);
    }
    return { id: match[1], value: match[2] };
  });
}

async function encode(args: string[], io: QrCommandIo): Promise<number> {
  const { values, positionals } = parse(args, ENCODE_OPTIONS);
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0] ?? ""}".`);
  if (values.static === true && values.amount !== undefined) {
    throw new UsageError("--static and --amount exclude each other: a static code carries no amount.");
  }
  if (values.static !== true && values.amount === undefined) {
    throw new UsageError(
      "Give --amount for a dynamic code, or --static for a code where the payer types it.",
    );
  }
  const currencyCode = required(values.currency, "currency");
  const currency = getCurrency(currencyCode);
  if (currency === undefined)
    throw new UsageError(`--currency "${currencyCode}" is not an ISO 4217 code QRSettle knows.`);
  const payeeBank = unsignedInteger(required(values["payee-bank"], "payee-bank"), "payee-bank");
  if (payeeBank > BigInt(Number.MAX_SAFE_INTEGER)) throw new UsageError("--payee-bank is far too large.");
  if (values["alt-language"] !== undefined && values["alt-name"] === undefined) {
    throw new UsageError("--alt-language needs --alt-name.");
  }
  const request: QrSettleRequest = {
    chainId: unsignedInteger(required(values["chain-id"], "chain-id"), "chain-id"),
    ledger: hexAddress(required(values.ledger, "ledger"), "ledger"),
    payeeBank: Number(payeeBank),
    payee: hexAddress(required(values.payee, "payee"), "payee"),
    currency: currency.numeric,
    ...(values.amount === undefined ? {} : { amount: values.amount }),
    ...(values.reference === undefined ? {} : { reference: values.reference }),
    ...(values.expiry === undefined ? {} : { expiry: unsignedInteger(values.expiry, "expiry") }),
    merchantName: required(values["merchant-name"], "merchant-name"),
    merchantCity: required(values["merchant-city"], "merchant-city"),
    countryCode: required(values.country, "country"),
    mcc: required(values.mcc, "mcc"),
    pointOfInitiation: values.static === true ? "static" : "dynamic",
    ...(values["alt-name"] === undefined
      ? {}
      : {
          alternateLanguage: {
            languagePreference: required(values["alt-language"], "alt-language"),
            merchantName: values["alt-name"],
            ...(values["alt-city"] === undefined ? {} : { merchantCity: values["alt-city"] }),
          },
        }),
  };
  const additionalData: Omit<AdditionalDataInput, "referenceLabel"> = Object.fromEntries(
    (
      [
        ["billNumber", values["bill-number"]],
        ["mobileNumber", values["mobile-number"]],
        ["storeLabel", values["store-label"]],
        ["loyaltyNumber", values["loyalty-number"]],
        ["customerLabel", values["customer-label"]],
        ["terminalLabel", values["terminal-label"]],
        ["purposeOfTransaction", values.purpose],
        ["additionalConsumerDataRequest", values["consumer-data-request"]],
        ["merchantTaxId", values["merchant-tax-id"]],
        ["merchantChannel", values["merchant-channel"]],
      ] as const
    ).filter(([, value]) => value !== undefined),
  );
  const options: EncodeQrSettleRequestOptions = {
    merchantAccounts: accounts(values.account ?? []),
    additionalData,
    ...(values["postal-code"] === undefined ? {} : { postalCode: values["postal-code"] }),
  };

  const payload = encodeQrSettleRequest(request, options);
  const uri = values.eip681 === true ? toEip681Uri(request) : undefined;
  if (values.png !== undefined) await writeFile(values.png, renderQrPng(payload));
  if (values.svg !== undefined) await writeFile(values.svg, renderQrSvg(payload));
  if (values.json === true) {
    io.stdout(`${JSON.stringify({ payload, ...(uri === undefined ? {} : { eip681: uri }) }, null, 2)}\n`);
  } else {
    io.stdout(`${payload}\n`);
    if (uri !== undefined) io.stdout(`${uri}\n`);
  }
  if (values.terminal === true) io.stdout(`${renderQrTerminal(payload)}\n`);
  return QrExitCode.valid;
}

function qrSettleJson(request: QrSettleRequest): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(request, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value)),
  ) as Record<string, unknown>;
}

/** JSON.stringify with two-space indent, nested one level (two more spaces on every line but the first). */
function nestedJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replaceAll("\n", "\n  ");
}

/**
 * The `--json` report. Written by hand because JavaScript objects list integer-like keys ("26") before others
 * ("00"), and `flat` reads best in payload order.
 */
function reportJson(report: EmvQrInspection): string {
  const keys = Object.keys(report.flat).sort();
  const flat =
    keys.length === 0
      ? "{}"
      : `{\n${keys.map((key) => `    ${JSON.stringify(key)}: ${JSON.stringify(report.flat[key])}`).join(",\n")}\n  }`;
  const members = [
    `"valid": ${JSON.stringify(report.valid)}`,
    `"crcValid": ${JSON.stringify(report.crcValid)}`,
    `"errors": ${nestedJson(report.errors)}`,
    `"warnings": ${nestedJson(report.warnings)}`,
    `"flat": ${flat}`,
    ...(report.qrsettle === undefined ? [] : [`"qrsettle": ${nestedJson(qrSettleJson(report.qrsettle))}`]),
  ];
  return `{\n  ${members.join(",\n  ")}\n}`;
}

async function decode(args: string[], io: QrCommandIo): Promise<number> {
  const { values, positionals } = parse(args, DECODE_OPTIONS);
  if (values.image !== undefined && positionals.length > 0) {
    throw new UsageError("Give either a payload or --image, not both.");
  }
  if (values.image === undefined && positionals.length !== 1) {
    throw new UsageError("Give exactly one payload (quote it), or --image <file>.");
  }
  const now = values.now === undefined ? undefined : unsignedInteger(values.now, "now");
  let payload: string;
  if (values.image === undefined) {
    payload = positionals[0] ?? "";
  } else {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(values.image);
    } catch (error) {
      throw new UsageError(
        `Cannot read --image ${values.image}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    payload = decodeQrImage(bytes);
  }
  const report = inspectEmvQr(payload, now === undefined ? {} : { now });
  if (values.json === true) {
    io.stdout(`${reportJson(report)}\n`);
  } else {
    io.stdout(`${report.valid ? "valid" : "INVALID"} (CRC ${report.crcValid ? "ok" : "wrong"})\n`);
    // "ID" and "ID.SUB" keys sort into payload order as text; objects put integer-like keys first.
    const keys = Object.keys(report.flat).sort();
    const width = Math.max(0, ...keys.map((key) => key.length));
    for (const key of keys) io.stdout(`${key.padEnd(width)}  ${report.flat[key] ?? ""}\n`);
    for (const issue of report.errors)
      io.stdout(`error   ${issue.code} ${issue.tag ?? ""}: ${issue.message}\n`);
    for (const issue of report.warnings)
      io.stdout(`warning ${issue.code} ${issue.tag ?? ""}: ${issue.message}\n`);
    if (report.qrsettle !== undefined) {
      io.stdout("QRSettle request:\n");
      for (const [key, value] of Object.entries(qrSettleJson(report.qrsettle))) {
        io.stdout(`  ${key}: ${typeof value === "string" ? value : JSON.stringify(value)}\n`);
      }
    }
  }
  return report.valid ? QrExitCode.valid : QrExitCode.invalid;
}

/**
 * Runs `qrsettle qr …`: `encode` writes a QRSettle payload (and optionally PNG, SVG, terminal QR, EIP-681
 * URI); `decode` reports on any EMV MPM payload or QR image, as text or as stable JSON
 * (`{ valid, crcValid, errors, warnings, flat, qrsettle? }`). Never throws for bad input: errors go to
 * `io.stderr` and the exit code says what happened.
 *
 * @param argv - The arguments after "qr", e.g. `["decode", payload, "--json"]`.
 * @returns 0 valid, 1 invalid payload or request, 2 usage error.
 *
 * @example
 * const exitCode = await runQrCommand(process.argv.slice(3), {
 *   stdout: (text) => process.stdout.write(text),
 *   stderr: (text) => process.stderr.write(text),
 * });
 * process.exitCode = exitCode;
 */
export async function runQrCommand(argv: string[], io: QrCommandIo): Promise<number> {
  const [subcommand, ...args] = argv;
  try {
    if (subcommand === "encode") return await encode(args, io);
    if (subcommand === "decode") return await decode(args, io);
    if (subcommand === "help" || subcommand === "--help" || subcommand === "-h") {
      io.stdout(USAGE);
      return QrExitCode.valid;
    }
    throw new UsageError(
      subcommand === undefined ? "Missing subcommand." : `Unknown subcommand "${subcommand}".`,
    );
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${error.message}\n\n${USAGE}`);
      return QrExitCode.usage;
    }
    if (error instanceof QrError) {
      io.stderr(`${error.message}\n`);
      return QrExitCode.invalid;
    }
    throw error;
  }
}

// Run directly (`npx tsx src/cli/qr.ts decode <payload>`) until the `qrsettle` binary routes "qr" here.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runQrCommand(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
}
