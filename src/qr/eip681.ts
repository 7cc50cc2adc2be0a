/**
 * QRSettle's EIP-681 mapping. The URI targets the settlement ledger on its chain and names the function
 * `payQr`, whose parameters are ABI-typed, in this order, as EIP-681 matches typed parameters to arguments by
 * position. Optional parameters are left out; their types are distinct from what follows them, so a reader
 * can tell which ones are present. docs/qr.md explains the choice.
 */
/**
 * Name of the function a QRSettle EIP-681 URI calls on the ledger.
 *
 * @example
 * new URL(uri).pathname.endsWith(`/${EIP681_FUNCTION}`) // true for a QRSettle URI
 */
export const EIP681_FUNCTION = "payQr";

/**
 * `payQr`'s parameters: EIP-681 key (the ABI type), request field, and whether it may be left out.
 *
 * @example
 * EIP681_PARAMETERS.map((parameter) => parameter.type).join(",") // "uint16,address,uint16,uint256,string,uint64"
 */
export const EIP681_PARAMETERS = [
  { type: "uint16", field: "payeeBank", optional: false },
  { type: "address", field: "payee", optional: false },
  { type: "uint16", field: "currency", optional: false },
  { type: "uint256", field: "amount", optional: true },
  { type: "string", field: "reference", optional: true },
  { type: "uint64", field: "expiry", optional: true },
] as const;
