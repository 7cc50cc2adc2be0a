import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";

import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { getCurrencyByAlpha } from "../../protocol/currencies.ts";
import { fxTypes, rateFromDecimal, type FxDomain, type FxQuote } from "../../protocol/fx.ts";
import { decryptKeystore } from "../chain/keystore.ts";
import type { RelayerConfig } from "../config.ts";
import { ApiError, RelayerError } from "../errors.ts";

/** A quote with its provider's signature. */
export interface SignedQuote {
  quote: FxQuote;
  quoteSignature: Hex;
}

/** This bank as an FX provider: signs quotes at its configured rates. */
export interface QuoteProvider {
  /** The address that signs quotes (a relayer key of this bank). */
  readonly signer: Address;
  /**
   * A fresh quote for delivering `receiveAmount` minor units of `to` against `from`.
   *
   * @throws {ApiError} `FX_PAIR_NOT_QUOTED` or `QUOTE_AMOUNT_TOO_LARGE`.
   */
  quote(from: number, to: number, receiveAmount: bigint): Promise<SignedQuote>;
}

type ProviderConfig = NonNullable<RelayerConfig["fx"]["provider"]>;

const PRIVATE_KEY = /^0x[0-9a-fA-F]{64}$/;
/** Quotes start a little in the past: a block's timestamp may lag the provider's clock. */
const CLOCK_SKEW_SECONDS = 60n;

/** The quote signing key, from its environment variable or keystore. Never logged. */
async function quoteKey(config: ProviderConfig, env: NodeJS.ProcessEnv): Promise<Hex> {
  if (config.quoteKeystore !== undefined) {
    const { path, passwordEnv } = config.quoteKeystore;
    const password = env[passwordEnv];
    if (password === undefined) {
      throw new RelayerError("KEYS_MISSING", `The password variable ${passwordEnv} is not set.`, {
        details: { keystore: path },
      });
    }
    let json: string;
    try {
      json = await readFile(path, "utf8");
    } catch (error) {
      throw new RelayerError("KEYSTORE_UNREADABLE", `Cannot read the keystore ${path}.`, { cause: error });
    }
    return decryptKeystore(json, password);
  }
  const key = env[config.quoteKeyEnv]?.trim();
  if (key === undefined || !PRIVATE_KEY.test(key)) {
    throw new RelayerError(
      "KEYS_MISSING",
      `fx.provider needs a quote signing key: set ${config.quoteKeyEnv} to a 32-byte hex key, or configure fx.provider.quoteKeystore.`,
    );
  }
  return key as Hex;
}

/**
 * The FX provider of a bank: rates per pair from the configuration (decimal, between major units), turned into
 * the contract's integer rates once; each quote gets a random id, a validity window of
 * `validitySeconds` and the configured maximum, and is signed under the FX contract's EIP-712 domain.
 *
 * @example
 * const provider = await createQuoteProvider(config.fx.provider, process.env, { bankId, domain });
 * const { quote, quoteSignature } = await provider.quote(156, 344, 108_50n);
 */
export async function createQuoteProvider(
  config: ProviderConfig,
  env: NodeJS.ProcessEnv,
  options: {
    bankId: number;
    domain: FxDomain;
    now?: () => number;
    /** The latest block's timestamp: the clock the contract checks the quote's window against. */
    chainTime?: () => Promise<bigint>;
  },
): Promise<QuoteProvider> {
  const account = privateKeyToAccount(await quoteKey(config, env));
  const rates = new Map<string, bigint>();
  for (const [pair, decimal] of Object.entries(config.rates)) {
    const [from, to] = pair.split("/") as [string, string];
    const codes = [from, to].map((alpha) => {
      const currency = getCurrencyByAlpha(alpha);
      if (currency === undefined) {
        throw new RelayerError("CONFIG_INVALID", `fx.provider.rates: unknown currency ${alpha} in ${pair}.`);
      }
      return currency.numeric;
    }) as [number, number];
    rates.set(`${codes[0]}/${codes[1]}`, rateFromDecimal(decimal, codes[0], codes[1]));
  }
  const maxToAmount = BigInt(config.maxToAmount);
  const now = options.now ?? Date.now;
  return {
    signer: account.address,
    async quote(from, to, receiveAmount) {
      const rate = rates.get(`${from}/${to}`);
      if (rate === undefined) {
        throw new ApiError("FX_PAIR_NOT_QUOTED", `This provider does not quote ${from} to ${to}.`);
      }
      if (receiveAmount > maxToAmount) {
        throw new ApiError(
          "QUOTE_AMOUNT_TOO_LARGE",
          `This provider quotes at most ${maxToAmount} minor units at once.`,
        );
      }
      // The window spans both clocks: payers' banks check it against their wall clocks, the contract against
      // block time, and a local chain mining many blocks a second runs ahead of the wall clock.
      const wall = BigInt(Math.floor(now() / 1000));
      const chain = options.chainTime === undefined ? wall : await options.chainTime();
      const [earlier, later] = wall < chain ? [wall, chain] : [chain, wall];
      const quote: FxQuote = {
        provider: options.bankId,
        fromCurrency: from,
        toCurrency: to,
        rate,
        maxToAmount,
        validFrom: earlier - CLOCK_SKEW_SECONDS,
        expiry: later + BigInt(config.validitySeconds),
        quoteId: `0x${randomBytes(32).toString("hex")}`,
      };
      const quoteSignature = await account.signTypedData({
        domain: options.domain,
        types: fxTypes,
        primaryType: "FxQuote",
        message: quote,
      });
      return { quote, quoteSignature };
    },
  };
}
