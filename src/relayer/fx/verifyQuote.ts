import { recoverTypedDataAddress, type Address, type Hex, type PublicClient } from "viem";

import { fxTypes, type FxDomain, type FxQuote } from "../../protocol/fx.ts";
import { bankRegistryAbi } from "../../protocol/generated/abi.ts";
import { parseEcdsaSignature } from "../validation/ecdsa.ts";

/**
 * Whether `quoteSignature` is the provider's, as `FxSettlement` checks it: an ECDSA signature (s in the lower
 * half) that recovers a key the registry lists as a relayer of the bank the quote names, at a non-zero rate.
 *
 * @example
 * if (!(await isQuoteSigned(client, registry, fxDomain(chainId, fx), quote, signature))) refuse();
 */
export async function isQuoteSigned(
  client: PublicClient,
  registry: Address,
  domain: FxDomain,
  quote: FxQuote,
  quoteSignature: Hex,
): Promise<boolean> {
  if (quote.provider === 0 || quote.rate === 0n) return false;
  const parsed = parseEcdsaSignature(quoteSignature);
  if (!("rs" in parsed)) return false;
  let signer: Address;
  try {
    signer = await recoverTypedDataAddress({
      domain,
      types: fxTypes,
      primaryType: "FxQuote",
      message: quote,
      signature: quoteSignature,
    });
  } catch {
    return false;
  }
  const bank = await client.readContract({
    address: registry,
    abi: bankRegistryAbi,
    functionName: "relayerBank",
    args: [signer],
  });
  return bank === quote.provider;
}

/** How long a quote's verdict is reused: the registry may drop the key that signed it (operator transactions). */
const VERDICT_TTL_MS = 10_000;
/** Verdicts kept at most; the expired go first when there are more. */
const MAX_VERDICTS = 10_000;

/**
 * `isQuoteSigned` with its verdicts reused for `ttlMs` per quote and signature. Many payments use one quote,
 * and each check costs a signer recovery in JavaScript (about 1.5 ms of CPU) and a registry `eth_call`; a
 * revoked provider key is refused again within `ttlMs`, as the ledger view re-reads the registry's settings.
 *
 * @example
 * const verify = createQuoteVerifier(client, registry, fxDomain(chainId, fx));
 * if (!(await verify(quote, signature))) refuse();
 */
export function createQuoteVerifier(
  client: PublicClient,
  registry: Address,
  domain: FxDomain,
  ttlMs = VERDICT_TTL_MS,
  now: () => number = Date.now,
): (quote: FxQuote, quoteSignature: Hex) => Promise<boolean> {
  const verdicts = new Map<string, { verdict: Promise<boolean>; expires: number }>();
  return (quote, quoteSignature) => {
    // Every field of the quote and the signature: exact, and far cheaper than hashing the quote.
    const key =
      `${fxTypes.FxQuote.map(({ name }) => String(quote[name])).join(":")}:${quoteSignature}`.toLowerCase();
    const at = now();
    const known = verdicts.get(key);
    if (known !== undefined && known.expires > at) return known.verdict;
    if (verdicts.size >= MAX_VERDICTS) {
      for (const [stale, { expires }] of verdicts) if (expires <= at) verdicts.delete(stale);
      if (verdicts.size >= MAX_VERDICTS) verdicts.delete(verdicts.keys().next().value as string);
    }
    const verdict = isQuoteSigned(client, registry, domain, quote, quoteSignature);
    verdicts.set(key, { verdict, expires: at + ttlMs });
    // A failed read (the node, not the quote) must not be served from the cache.
    verdict.catch(() => verdicts.delete(key));
    return verdict;
  };
}
