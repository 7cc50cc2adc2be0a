import { readFile } from "node:fs/promises";

import { getAddress, isAddress, type Address } from "viem";
import { z } from "zod";

import { parseAmount } from "../protocol/amounts.ts";
import { getCurrency } from "../protocol/currencies.ts";
import { numberedDetails, QRSettleError } from "../protocol/errors.ts";
import type { NetworkSpec } from "./network.ts";

const address = z
  .string()
  .refine((value) => isAddress(value, { strict: false }), { error: 'must be "0x" and 40 hex digits' })
  .transform((value) => getAddress(value));

/** A currency by ISO 4217 alphabetic ("CNY") or numeric (156 or "156") code. */
const currencyCode = z.union([z.string(), z.number().int()]);

/** A decimal amount in the currency's major unit, e.g. "1000000.00"; exact, never a float. */
const decimalAmount = z
  .string()
  .regex(/^\d+(\.\d*)?$/, { error: 'must be a decimal string such as "1000.00"' });

const bankFile = z
  .object({
    bic: z
      .string()
      .regex(/^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$/, { error: "must be an 8- or 11-character BIC" }),
    name: z.string().min(1).max(64),
    admin: address,
    status: z.enum(["active", "suspended"]).default("active"),
    relayers: z.array(address).default([]),
    /** Operator caps by currency code. */
    limits: z
      .record(
        z.string(),
        z.object({ debitCap: decimalAmount.default("0"), maxPayment: decimalAmount.default("0") }),
      )
      .default({}),
    /** Reserves issued once, to a position that has never held any (see docs/operator.md). */
    initialReserves: z.record(z.string(), decimalAmount).default({}),
    /** Customer accounts to open; a balance is issued once, when the account is first opened. */
    customers: z
      .array(
        z.object({ address, currency: currencyCode, initialBalance: decimalAmount.default("0") }).strict(),
      )
      .default([]),
  })
  .strict();

/** The schema of a network file: what `deploy` and `configure` bring a chain to. */
export const networkFileSchema = z
  .object({
    /** Seconds a handover of the registry's default admin must wait. */
    adminTransferDelay: z.number().int().min(0).default(86_400),
    roles: z
      .object({
        governor: address,
        operator: address,
        settlementAgent: address,
        pauser: address,
        freezer: address,
        enforcer: address,
      })
      .strict(),
    currencies: z.array(z.object({ code: currencyCode, enabled: z.boolean().default(true) }).strict()).min(1),
    banks: z.array(bankFile),
  })
  .strict();

/** A network file as written, before currency codes and amounts are resolved. */
export type NetworkFile = z.input<typeof networkFileSchema>;

/** A customer account a network spec opens, with the balance it is first funded with (minor units). */
export interface CustomerSpec {
  address: Address;
  currency: number;
  initialBalance: bigint;
}

/**
 * Validates a network file and resolves it into a {@link NetworkSpec}: currencies as ISO 4217 numeric codes
 * with their exponents, amounts as integer minor units.
 *
 * @throws {QRSettleError} `NETWORK_FILE_INVALID` with one "path: problem" line per problem found.
 * @example
 * const spec = parseNetworkFile(JSON.parse(await readFile("networks/local.json", "utf8")), "networks/local.json");
 */
export function parseNetworkFile(value: unknown, source: string): NetworkSpec {
  const parsed = networkFileSchema.safeParse(value);
  if (!parsed.success) {
    throw new QRSettleError("NETWORK_FILE_INVALID", "The network file is not valid.", {
      details: {
        File: source,
        ...numberedDetails(
          "Problem",
          parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`),
        ),
      },
    });
  }
  const file = parsed.data;
  const problems: string[] = [];
  const currencyOf = (code: string | number, where: string) => {
    const currency = getCurrency(code);
    if (currency === undefined) problems.push(`${where}: unknown ISO 4217 currency "${code}"`);
    return currency;
  };
  const listed = new Map<number, number>();
  for (const [i, { code }] of file.currencies.entries()) {
    const currency = currencyOf(code, `currencies.${i}.code`);
    if (currency !== undefined) listed.set(currency.numeric, currency.exponent);
  }
  const units = (amount: string, code: string | number, where: string): bigint => {
    const currency = currencyOf(code, where);
    if (currency === undefined) return 0n;
    if (!listed.has(currency.numeric))
      problems.push(`${where}: currency ${currency.alpha} is not in "currencies"`);
    try {
      return parseAmount(amount, currency.exponent);
    } catch (error) {
      problems.push(`${where}: ${error instanceof QRSettleError ? error.shortMessage : String(error)}`);
      return 0n;
    }
  };
  const numeric = (code: string | number) => getCurrency(code)?.numeric ?? 0;

  const seenBics = new Set<string>();
  const spec: NetworkSpec = {
    governor: file.roles.governor,
    adminTransferDelay: file.adminTransferDelay,
    roles: {
      operator: file.roles.operator,
      settlementAgent: file.roles.settlementAgent,
      pauser: file.roles.pauser,
      freezer: file.roles.freezer,
      enforcer: file.roles.enforcer,
    },
    currencies: file.currencies.map(({ code, enabled }) => ({
      code: numeric(code),
      exponent: getCurrency(code)?.exponent ?? 0,
      enabled,
    })),
    banks: file.banks.map((bank, i) => {
      if (seenBics.has(bank.bic)) problems.push(`banks.${i}.bic: ${bank.bic} appears twice`);
      seenBics.add(bank.bic);
      return {
        bic: bank.bic,
        name: bank.name,
        admin: bank.admin,
        status: bank.status,
        relayers: bank.relayers,
        limits: Object.fromEntries(
          Object.entries(bank.limits).map(([code, limit]) => [
            numeric(code),
            {
              debitCap: units(limit.debitCap, code, `banks.${i}.limits.${code}.debitCap`),
              maxPayment: units(limit.maxPayment, code, `banks.${i}.limits.${code}.maxPayment`),
            },
          ]),
        ),
        reserves: Object.fromEntries(
          Object.entries(bank.initialReserves).map(([code, amount]) => [
            numeric(code),
            units(amount, code, `banks.${i}.initialReserves.${code}`),
          ]),
        ),
        customers: bank.customers.map((customer, j): CustomerSpec => ({
          address: customer.address,
          currency: numeric(customer.currency),
          initialBalance: units(
            customer.initialBalance,
            customer.currency,
            `banks.${i}.customers.${j}.initialBalance`,
          ),
        })),
      };
    }),
  };
  if (problems.length > 0) {
    throw new QRSettleError("NETWORK_FILE_INVALID", "The network file is not valid.", {
      details: { File: source, ...numberedDetails("Problem", problems) },
    });
  }
  return spec;
}

/**
 * Reads and validates a network file (JSON).
 *
 * @throws {QRSettleError} `NETWORK_FILE_UNREADABLE` or `NETWORK_FILE_INVALID`.
 * @example
 * const spec = await readNetworkFile("networks/local.json");
 */
export async function readNetworkFile(file: string): Promise<NetworkSpec> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, "utf8"));
  } catch (cause) {
    throw new QRSettleError("NETWORK_FILE_UNREADABLE", "Cannot read the network file as JSON.", {
      details: { File: file },
      cause,
    });
  }
  return parseNetworkFile(value, file);
}
