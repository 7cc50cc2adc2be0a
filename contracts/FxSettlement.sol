// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {BankStatus, IBankRegistry} from "./interfaces/IBankRegistry.sol";
import {FxPayment, FxPaymentRequest, FxQuote, IFxSettlement} from "./interfaces/IFxSettlement.sol";
import {CrossCurrencyPayment, ISettlementLedger, RejectReason} from "./interfaces/ISettlementLedger.sol";
import {SignatureLib} from "./libraries/SignatureLib.sol";

/// @title QRSettle FX settlement
/// @notice Cross-currency QR payments at a provider's signed quote, both legs or neither (payment versus
/// payment). This contract checks the payer's signature and the quote and meters each quote's capacity; the
/// ledger checks the accounts, nonces, limits and reserves and moves the money.
/// @dev Immutable, like the ledger. Its only external calls go to the registry and ledger (trusted, ours) and
/// to ERC-1271 wallets (`staticcall`), so nothing can re-enter.
contract FxSettlement is IFxSettlement, EIP712 {
    /// @inheritdoc IFxSettlement
    uint256 public constant RATE_SCALE = 1e18;

    bytes32 private constant QUOTE_TYPEHASH = keccak256(
        "FxQuote(uint16 provider,uint16 fromCurrency,uint16 toCurrency,uint256 rate,uint256 maxToAmount,uint256 validFrom,uint256 expiry,bytes32 quoteId)"
    );
    bytes32 private constant PAYMENT_TYPEHASH = keccak256(
        "FxPayment(address payer,address payee,uint16 payeeBank,uint16 payCurrency,uint256 payAmount,uint16 receiveCurrency,uint256 receiveAmount,bytes32 quoteHash,bytes32 qrHash,uint256 nonce,uint256 deadline)"
    );

    /// @notice The registry: relayers, banks, the pause.
    IBankRegistry public immutable registry;
    /// @notice The ledger that holds the money.
    ISettlementLedger public immutable ledger;

    mapping(bytes32 quoteHash => uint256 used) private _quoteUsed;

    constructor(IBankRegistry registry_, ISettlementLedger ledger_) EIP712("QRSettle FX", "1") {
        registry = registry_;
        ledger = ledger_;
    }

    /// @inheritdoc IFxSettlement
    function settleFxPayments(FxPaymentRequest[] calldata requests) external returns (uint256 settledCount) {
        if (requests.length == 0) revert EmptyBatch();
        uint16 payerBank = registry.relayerBank(msg.sender);
        if (payerBank == 0) revert IBankRegistry.UnauthorizedRelayer(msg.sender);
        if (registry.bankStatus(payerBank) != BankStatus.Active)
            revert IBankRegistry.BankNotActive(payerBank);
        // The ledger enforces the pause, but refusing here saves the caller a batch of rejections.
        if (registry.paused()) revert ISettlementLedger.NetworkPaused();
        // Payments in a batch usually share a quote: its provider's signature is checked once.
        bytes32 verifiedQuote;
        for (uint256 i; i < requests.length; ++i) {
            FxPaymentRequest calldata request = requests[i];
            bytes32 paymentId = _hashTypedDataV4(_paymentStructHash(request.payment));
            RejectReason reason;
            (reason, verifiedQuote) = _settle(request, paymentId, payerBank, verifiedQuote);
            if (reason == RejectReason.None) ++settledCount;
            else emit PaymentRejected(paymentId, request.payment.payer, reason);
        }
    }

    /// @inheritdoc IFxSettlement
    function quoteStructHash(FxQuote calldata quote) public pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    QUOTE_TYPEHASH,
                    quote.provider,
                    quote.fromCurrency,
                    quote.toCurrency,
                    quote.rate,
                    quote.maxToAmount,
                    quote.validFrom,
                    quote.expiry,
                    quote.quoteId
                )
            );
    }

    /// @inheritdoc IFxSettlement
    function hashQuote(FxQuote calldata quote) external view returns (bytes32) {
        return _hashTypedDataV4(quoteStructHash(quote));
    }

    /// @inheritdoc IFxSettlement
    function hashFxPayment(FxPayment calldata payment) external view returns (bytes32) {
        return _hashTypedDataV4(_paymentStructHash(payment));
    }

    /// @inheritdoc IFxSettlement
    function quoteUsed(bytes32 quoteHash) external view returns (uint256) {
        return _quoteUsed[quoteHash];
    }

    /// @inheritdoc IFxSettlement
    function payAmountFor(uint256 receiveAmount, uint256 rate) public pure returns (uint256) {
        return Math.mulDiv(receiveAmount, RATE_SCALE, rate, Math.Rounding.Ceil);
    }

    /// @dev Checks one request's signatures and quote, then asks the ledger to settle it; meters the quote
    /// only if the ledger settled.
    /// @param verifiedQuote A quote struct hash whose provider signature this batch has already checked.
    /// @return reason None if settled, else why not.
    /// @return verified The quote this request's signature check covered (or `verifiedQuote` unchanged).
    function _settle(
        FxPaymentRequest calldata request,
        bytes32 paymentId,
        uint16 payerBank,
        bytes32 verifiedQuote
    ) private returns (RejectReason reason, bytes32 verified) {
        verified = verifiedQuote;
        FxPayment calldata payment = request.payment;
        if (!SignatureLib.isValidCalldata(payment.payer, paymentId, request.payerSignature)) {
            return (RejectReason.InvalidSignature, verified);
        }
        if (block.timestamp > payment.deadline) return (RejectReason.Expired, verified);
        // Ledger balances are 96-bit: larger amounts cannot settle, and must not overflow the rate arithmetic.
        if (payment.receiveAmount > type(uint96).max || payment.payAmount > type(uint96).max) {
            return (RejectReason.InvalidAmount, verified);
        }

        FxQuote calldata quote = request.quote;
        bytes32 quoteHash = quoteStructHash(quote);
        if (quoteHash != payment.quoteHash) return (RejectReason.QuoteMismatch, verified);
        if (quoteHash != verifiedQuote) {
            if (!_isSignedByProvider(quote, quoteHash, request.quoteSignature)) {
                return (RejectReason.QuoteInvalid, verified);
            }
            verified = quoteHash;
        }
        if (block.timestamp < quote.validFrom || block.timestamp > quote.expiry) {
            return (RejectReason.QuoteOutOfWindow, verified);
        }
        if (
            quote.fromCurrency != payment.payCurrency ||
            quote.toCurrency != payment.receiveCurrency ||
            payment.payAmount != payAmountFor(payment.receiveAmount, quote.rate)
        ) {
            return (RejectReason.QuoteMismatch, verified);
        }
        uint256 usedBefore = _quoteUsed[quoteHash];
        // Compared by subtraction: usage never exceeds the maximum, so this cannot underflow or overflow.
        if (payment.receiveAmount > quote.maxToAmount - usedBefore)
            return (RejectReason.QuoteExhausted, verified);
        uint256 used = usedBefore + payment.receiveAmount;

        reason = ledger.settleCrossCurrency(
            CrossCurrencyPayment({
                paymentId: paymentId,
                qrHash: payment.qrHash,
                payer: payment.payer,
                payee: payment.payee,
                payerBank: payerBank,
                providerBank: quote.provider,
                payeeBank: payment.payeeBank,
                payCurrency: payment.payCurrency,
                receiveCurrency: payment.receiveCurrency,
                payAmount: payment.payAmount,
                receiveAmount: payment.receiveAmount,
                nonce: payment.nonce
            })
        );
        if (reason != RejectReason.None) return (reason, verified);
        _quoteUsed[quoteHash] = used;
        emit QuoteUsed(quoteHash, quote.provider, quote.quoteId, payment.receiveAmount, used);
    }

    /// @dev Whether a relayer key of the quote's provider bank signed it, at a usable (non-zero) rate.
    function _isSignedByProvider(
        FxQuote calldata quote,
        bytes32 quoteHash,
        bytes calldata signature
    ) private view returns (bool) {
        address quoter = SignatureLib.recoverCalldata(_hashTypedDataV4(quoteHash), signature);
        // relayerBank is 0 for a key that relays for no bank, so a quote naming bank 0 is never signed.
        return
            quoter != address(0) &&
            quote.provider != 0 &&
            quote.rate != 0 &&
            registry.relayerBank(quoter) == quote.provider;
    }

    function _paymentStructHash(FxPayment calldata p) private pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    PAYMENT_TYPEHASH,
                    p.payer,
                    p.payee,
                    p.payeeBank,
                    p.payCurrency,
                    p.payAmount,
                    p.receiveCurrency,
                    p.receiveAmount,
                    p.quoteHash,
                    p.qrHash,
                    p.nonce,
                    p.deadline
                )
            );
    }
}
