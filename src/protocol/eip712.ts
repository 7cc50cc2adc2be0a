import type { Address } from "viem";

/** EIP-712 domain name and version of the settlement ledger, as in `SettlementLedger`'s constructor. */
export const LEDGER_DOMAIN_NAME = "QRSettle";
/** EIP-712 domain version of the settlement ledger. */
export const LEDGER_DOMAIN_VERSION = "1";

/**
 * The EIP-712 domain type of the ledger's and the FX module's domains (name, version, chain id, contract), for
 * hashing a domain separator or serving the types to a wallet.
 */
export const EIP712_DOMAIN_TYPES = {
  EIP712Domain: [
    { name: "name", type: "string" },
    { name: "version", type: "string" },
    { name: "chainId", type: "uint256" },
    { name: "verifyingContract", type: "address" },
  ],
} as const;

/**
 * EIP-712 types of the messages customers sign. Any wallet can sign with these and the ledger's domain,
 * without our SDK; the relayer serves them at `GET /v1/eip712`. They must equal the type strings in
 * `contracts/libraries/PaymentHashLib.sol` (a test checks it).
 */
export const ledgerTypes = {
  Payment: [
    { name: "payer", type: "address" },
    { name: "payee", type: "address" },
    { name: "payeeBank", type: "uint16" },
    { name: "currency", type: "uint16" },
    { name: "amount", type: "uint256" },
    { name: "qrHash", type: "bytes32" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
  Refund: [
    { name: "paymentId", type: "bytes32" },
    { name: "amount", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

/** The EIP-712 domain of one ledger deployment. */
export interface LedgerDomain {
  name: typeof LEDGER_DOMAIN_NAME;
  version: typeof LEDGER_DOMAIN_VERSION;
  chainId: bigint;
  verifyingContract: Address;
}

/**
 * The EIP-712 domain that binds every signature to one chain and one ledger contract.
 *
 * @example
 * const domain = ledgerDomain(31337n, "0x5FbDB2315678afecb367f032d93F642f64180aa3");
 */
export function ledgerDomain(chainId: bigint | number, ledger: Address): LedgerDomain {
  return {
    name: LEDGER_DOMAIN_NAME,
    version: LEDGER_DOMAIN_VERSION,
    chainId: BigInt(chainId),
    verifyingContract: ledger,
  };
}

/**
 * The EIP-712 types of one message, as a fresh mutable object — the shape ethers' `signTypedData` expects
 * (ethers infers the primary type, so it must be given only that type's definitions).
 *
 * @example
 * await ethersWallet.signTypedData(domain, typesOf("Payment"), payment);
 */
export function typesOf(
  primaryType: keyof typeof ledgerTypes,
): Record<string, { name: string; type: string }[]> {
  return { [primaryType]: ledgerTypes[primaryType].map((field) => ({ ...field })) };
}
