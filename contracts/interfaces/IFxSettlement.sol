// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {RejectReason} from "./ISettlementLedger.sol";

/// @notice An FX provider's quote (EIP-712 primary type `FxQuote`), signed by a relayer key of the provider bank.
/// @param provider The bank that sells `toCurrency` for `fromCurrency`; it holds reserves in both.
/// @param rate Minor units of `toCurrency` per minor unit of `fromCurrency`, scaled by 1e18. The exponents of
/// both currencies are folded in: CNY→HKD at 1.0850 HKD per CNY (both exponent 2) is 1.085e18; JPY→USD at
/// 0.0067 USD per JPY (exponents 0 and 2) is 0.67e18.
/// @param maxToAmount Most `toCurrency` the quote may deliver over all the payments that use it; any bank's
/// customers may use the quote until then, as with a published price.
/// @param validFrom First second the quote may be used.
/// @param expiry Last second the quote may be used.
/// @param quoteId The provider's identifier, for its books.
struct FxQuote {
    uint16 provider;
    uint16 fromCurrency;
    uint16 toCurrency;
    uint256 rate;
    uint256 maxToAmount;
    uint256 validFrom;
    uint256 expiry;
    bytes32 quoteId;
}

/// @notice A cross-currency payment as the payer signs it (EIP-712 primary type `FxPayment`): the payer pays
/// `payAmount` of `payCurrency`, the merchant receives `receiveAmount` of `receiveCurrency`, at the quote whose
/// struct hash is `quoteHash`.
struct FxPayment {
    address payer;
    address payee;
    uint16 payeeBank;
    uint16 payCurrency;
    uint256 payAmount;
    uint16 receiveCurrency;
    uint256 receiveAmount;
    bytes32 quoteHash;
    bytes32 qrHash;
    uint256 nonce;
    uint256 deadline;
}

/// @notice One cross-currency payment submitted by the payer bank's relayer.
/// @param payerSignature 65 or 64 (EIP-2098) bytes of ECDSA, or an ERC-1271 signature for smart accounts.
/// @param quoteSignature The provider relayer's 65- or 64-byte ECDSA signature of the quote.
struct FxPaymentRequest {
    FxPayment payment;
    bytes payerSignature;
    FxQuote quote;
    bytes quoteSignature;
}

/// @title QRSettle FX settlement
/// @notice Settles cross-currency QR payments at an FX provider's signed quote, payment versus payment: the
/// payer's deposit in one currency goes down, the merchant's in another goes up, and both reserve legs move
/// through the provider bank, in one transaction or not at all. Quotes are checked and metered here; the money
/// moves in the `SettlementLedger`, which trusts this contract through the registry's FX_SETTLEMENT_ROLE.
interface IFxSettlement {
    /// @notice Emitted when a payment uses `receiveAmount` of a quote's capacity; `used` is the new total.
    event QuoteUsed(
        bytes32 indexed quoteHash,
        uint16 indexed provider,
        bytes32 quoteId,
        uint256 receiveAmount,
        uint256 used
    );
    /// @notice Emitted for a cross-currency payment that was skipped; nothing about it changed. Same
    /// signature as the ledger's, so consumers read both the same way.
    event PaymentRejected(bytes32 indexed paymentId, address indexed payer, RejectReason reason);

    /// @notice Thrown when `settleFxPayments` gets no payments.
    error EmptyBatch();

    /// @notice Scale of `FxQuote.rate`.
    function RATE_SCALE() external view returns (uint256);

    /// @notice Settles cross-currency payments of the caller's bank's customers; each settles, both legs at
    /// once, or is skipped with `PaymentRejected`. Only an unauthorised caller or the pause reverts.
    /// @return settledCount Number of payments settled.
    function settleFxPayments(FxPaymentRequest[] calldata requests) external returns (uint256 settledCount);

    /// @notice The EIP-712 struct hash of a quote: what a payment's `quoteHash` must equal.
    function quoteStructHash(FxQuote calldata quote) external pure returns (bytes32);

    /// @notice The EIP-712 digest of a quote, which its provider signs.
    function hashQuote(FxQuote calldata quote) external view returns (bytes32);

    /// @notice The EIP-712 digest of a payment, which is also its payment id.
    function hashFxPayment(FxPayment calldata payment) external view returns (bytes32);

    /// @notice How much of a quote's capacity (`toCurrency`) payments have used.
    function quoteUsed(bytes32 quoteHash) external view returns (uint256);

    /// @notice What the payer pays for `receiveAmount` at `rate`: rounded up, so rounding never gives the payer
    /// value the provider did not quote.
    function payAmountFor(uint256 receiveAmount, uint256 rate) external pure returns (uint256);
}
