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
