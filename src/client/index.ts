/**
 * What a wallet or merchant app needs beyond the protocol: a typed client of a bank relayer's API and nonce
 * selection. Pair it with `src/qr` (decode the code) and `src/protocol` (build and sign the payment).
 */
export * from "./relayerClient.ts";
export * from "./nonces.ts";
