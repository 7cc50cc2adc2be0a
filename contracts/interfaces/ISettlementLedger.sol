// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IBankRegistry} from "./IBankRegistry.sol";

/// @notice Why a batch item was skipped. Values are stable: relayers, wallets and auditors rely on them.
/// "Sender" is whoever is debited (the payer of a payment, the payee of a refund) and "receiver" whoever is
/// credited.
/// @dev Append only; never renumber. `src/protocol/reasons.ts` mirrors this list and a test keeps them equal.
enum RejectReason {
    None,
    InvalidSignature,
    Expired,
    NonceUsed,
    NonceOutOfWindow,
    SenderNotCustomer,
    SenderFrozen,
    ReceiverNotCustomer,
    ReceiverFrozen,
    ReceiverBankInactive,
    InvalidAmount,
    InsufficientBalance,
    DailyLimitExceeded,
    InsufficientReserves,
    UnknownPayment,
    RefundExceedsPayment,
    NotRelayerBank,
    CurrencyDisabled,
    QuoteInvalid,
    QuoteOutOfWindow,
    QuoteExhausted,
    QuoteMismatch
}

/// @notice A payment as the payer signs it (EIP-712 primary type `Payment`).
/// @param payer The account whose deposit is debited; signs the payment.
/// @param payee The merchant account credited, taken from the QR code.
/// @param payeeBank The merchant's bank, taken from the QR code.
/// @param currency ISO 4217 numeric currency code.
/// @param amount Amount in the currency's minor unit.
/// @param qrHash keccak256 of the exact QR payload the payer scanned.
/// @param nonce The payer's nonce in this currency (see `AccountLib` for the window rules).
/// @param deadline Unix time after which the payment may no longer settle.
struct Payment {
    address payer;
    address payee;
    uint16 payeeBank;
    uint16 currency;
    uint256 amount;
    bytes32 qrHash;
    uint256 nonce;
    uint256 deadline;
}

/// @notice A refund as the original payee signs it (EIP-712 primary type `Refund`).
/// @param paymentId The EIP-712 digest of the payment being refunded.
/// @param amount Amount to return to the payer, in the payment's currency; partial refunds allowed.
/// @param nonce The payee's nonce in the payment's currency.
/// @param deadline Unix time after which the refund may no longer settle.
struct Refund {
    bytes32 paymentId;
    uint256 amount;
    uint256 nonce;
    uint256 deadline;
}

/// @notice One refund submitted by the payee's bank relayer.
/// @param payment The original payment exactly as the payer signed it.
/// @param batchRoot Merkle root of the batch that settled the payment (from `BatchSettled`).
/// @param proof Merkle proof of the payment id under `batchRoot` (commutative keccak256 pairs).
/// @param amount Refund amount, as signed.
/// @param nonce The payee's nonce, as signed.
/// @param deadline Refund deadline, as signed.
/// @param signature The payee's signature over the `Refund`: 65 or 64 (EIP-2098) bytes, or ERC-1271.
struct RefundRequest {
    Payment payment;
    bytes32 batchRoot;
    bytes32[] proof;
    uint256 amount;
    uint256 nonce;
    uint256 deadline;
    bytes signature;
}

/// @notice Totals of one currency over all banks, each capped at 2^96 - 1 so no balance can overflow.
/// @param reserves Reserves issued minus redeemed.
/// @param deposits Customer deposits issued minus redeemed, plus what cross-currency payments brought into this
/// currency minus what they took out of it.
struct Supply {
    uint96 reserves;
    uint96 deposits;
}

/// @notice A customer's daily spending limit, set by the customer's bank. Days are UTC days.
struct CustomerLimit {
    uint96 dailyLimit;
    uint96 spentToday;
    uint64 day;
}

/// @notice A cross-currency payment the FX module asks the ledger to settle, both legs at once (payment
/// versus payment): the payer's deposit in `payCurrency` at `payerBank` goes down by `payAmount`, the payee's
/// deposit in `receiveCurrency` at `payeeBank` goes up by `receiveAmount`; reserves in `payCurrency` move from
/// the payer bank to the provider bank, reserves in `receiveCurrency` from the provider bank to the payee bank.
/// The FX module has checked the payer's signature and the provider's quote; the ledger checks the accounts,
/// the nonce, the limits and the reserves.
struct CrossCurrencyPayment {
    bytes32 paymentId;
    bytes32 qrHash;
    address payer;
    address payee;
    uint16 payerBank;
    uint16 providerBank;
    uint16 payeeBank;
    uint16 payCurrency;
    uint16 receiveCurrency;
    uint256 payAmount;
    uint256 receiveAmount;
    uint256 nonce;
}

/// @notice Decoded state of one customer account in one currency.
struct AccountView {
    uint16 bankId;
    uint96 balance;
    bool frozen;
    bool limited;
    uint48 nonceBase;
    uint64 nonceBitmap;
}

/// @title QRSettle settlement ledger
/// @notice Tokenized interbank reserves and customer deposits, settling payers' signed QR payments in batches.
/// @dev Every balance, role, limit and status change emits an event: the ledger can be rebuilt from events alone.
interface ISettlementLedger {
    // ─────────────────────────────────────────── Events ───────────────────────────────────────────

    /// @notice Emitted when a bank sets (or, with 0, removes) a customer's daily limit.
    event CustomerLimitSet(address indexed account, uint16 indexed currency, uint96 dailyLimit);

    /// @notice Emitted when the settlement agent issues reserves to a bank against off-chain reserves.
    event ReservesIssued(uint16 indexed bankId, uint16 indexed currency, uint256 amount);
    /// @notice Emitted when the settlement agent redeems a bank's reserves.
    event ReservesRedeemed(uint16 indexed bankId, uint16 indexed currency, uint256 amount);
    /// @notice Emitted once per bank pair and batch (or refund, forced move, cross-currency leg) for the
    /// reserves moved between two banks.
    /// @dev Equals the sum of the cross-bank `PaymentSettled` (or `PaymentRefunded`) amounts it nets; for a
    /// cross-currency payment, one per leg that crosses banks, as in `CrossCurrencySettled`.
    event InterbankSettled(
        uint16 indexed fromBank,
        uint16 indexed toBank,
        uint16 indexed currency,
        uint256 amount
    );

    /// @notice Emitted when a bank opens a customer account in a currency.
    event AccountOpened(address indexed account, uint16 indexed currency, uint16 indexed bankId);
    /// @notice Emitted when a bank closes an empty customer account in a currency.
    event AccountClosed(address indexed account, uint16 indexed currency, uint16 indexed bankId);
    /// @notice Emitted when a bank issues deposits to its customer (cash-in).
    event DepositsIssued(
        address indexed account,
        uint16 indexed currency,
        uint16 indexed bankId,
        uint256 amount
    );
    /// @notice Emitted when a bank redeems its customer's deposits (cash-out).
    event DepositsRedeemed(
        address indexed account,
        uint16 indexed currency,
        uint16 indexed bankId,
        uint256 amount
    );
    /// @notice Emitted when an account is frozen or unfrozen; `by` is the bank admin or freezer who did it.
    event AccountFrozen(address indexed account, uint16 indexed currency, bool frozen, address by);
    /// @notice Emitted when the enforcer moves deposits without the holder's signature (e.g. a court order).
    event ForcedTransfer(
        address indexed from,
        address indexed to,
        uint16 indexed currency,
        uint16 fromBank,
        uint16 toBank,
        uint256 amount,
        bytes32 caseRef
    );

    /// @notice Emitted for every settled payment; payers and merchants find theirs by the indexed addresses.
    /// @param terms The amount and where it moved, packed to keep the per-payment log lean (this event is the
    /// largest cost of a settled payment after its signature check and storage write):
    /// amount (bits 0–95) ‖ payer bank (96–111) ‖ payee bank (112–127) ‖ currency (128–143). The SDK's
    /// `decodePaymentTerms` unpacks it; the payer bank and currency also appear in the batch's `BatchSettled`.
    event PaymentSettled(
        address indexed payer,
        address indexed payee,
        bytes32 paymentId,
        bytes32 qrHash,
        uint256 terms
    );
    /// @notice Emitted for every settled cross-currency payment, with both legs. Each leg is packed like
    /// `PaymentSettled.terms`: amount (bits 0–95) ‖ from bank (96–111) ‖ to bank (112–127) ‖ currency (128–143).
    /// @param payTerms The pay leg: payAmount, from the payer bank to the provider bank, in the pay currency.
    /// @param receiveTerms The receive leg: receiveAmount, from the provider bank to the payee bank, in the
    /// receive currency.
    event CrossCurrencySettled(
        address indexed payer,
        address indexed payee,
        bytes32 paymentId,
        bytes32 qrHash,
        uint256 payTerms,
        uint256 receiveTerms
    );
    /// @notice Emitted for a batch item that was skipped; nothing else about it changed.
    event PaymentRejected(bytes32 indexed paymentId, address indexed payer, RejectReason reason);
    /// @notice Emitted once per payment batch. `root` commits to the ids of the settled payments, in order.
    event BatchSettled(
        uint16 indexed payerBank,
        uint16 indexed currency,
        bytes32 root,
        uint256 settledCount,
        uint256 rejectedCount
    );
    /// @notice Emitted for every settled refund.
    event PaymentRefunded(
        bytes32 indexed paymentId,
        address indexed payer,
        address indexed payee,
        bytes32 refundId,
        uint256 amount,
        uint16 payerBank,
        uint16 payeeBank,
        uint16 currency
    );
    /// @notice Emitted for a refund that was skipped; nothing else about it changed.
    event RefundRejected(bytes32 indexed refundId, bytes32 indexed paymentId, RejectReason reason);
    /// @notice Emitted when an account cancels one of its nonces.
    event NonceCancelled(address indexed account, uint16 indexed currency, uint256 nonce);
    /// @notice Emitted when an account invalidates every nonce below `newBase`, its window start afterwards
    /// (unchanged if it was already past the requested one).
    event NoncesInvalidated(address indexed account, uint16 indexed currency, uint256 newBase);

    // ─────────────────────────────────────────── Errors ───────────────────────────────────────────

    /// @notice Thrown when an address argument is zero.
    error ZeroAddress();
    /// @notice Thrown when the caller lacks the registry role `role`.
    error MissingRole(address caller, bytes32 role);
    /// @notice Thrown when the caller may not freeze the account: neither its bank's admin nor a freezer.
    error NotAccountController(address caller, address account, uint16 currency);
    /// @notice Thrown when the network is paused.
    error NetworkPaused();
    /// @notice Thrown when an amount is zero or does not fit the ledger's 96-bit balances.
    error InvalidAmount(uint256 amount);
    /// @notice Thrown when the batch encoding is malformed at `offset` of the named part.
    error MalformedBatch(uint8 part, uint256 offset);
    /// @notice Thrown when a batch has no items.
    error EmptyBatch();
    /// @notice Thrown when an account in this currency belongs to another bank.
    error AccountAtOtherBank(address account, uint16 currency, uint16 bankId);
    /// @notice Thrown when an account has not been opened in this currency.
    error AccountNotOpen(address account, uint16 currency);
    /// @notice Thrown when an account is frozen.
    error AccountIsFrozen(address account, uint16 currency);
    /// @notice Thrown when closing an account that still holds deposits.
    error AccountNotEmpty(address account, uint16 currency, uint256 balance);
    /// @notice Thrown when an account's deposits cannot cover `needed`.
    error InsufficientDeposits(address account, uint16 currency, uint256 balance, uint256 needed);
    /// @notice Thrown when a bank's reserves cannot cover `needed`.
    error InsufficientReserves(uint16 bankId, uint16 currency, int256 reserves, uint256 needed);
    /// @notice Thrown when issuance would take a currency's total above the 96-bit balance range.
    error SupplyCapExceeded(uint16 currency, uint256 total, uint256 added);
    /// @notice Thrown when cancelling a nonce that is already used or cancelled.
    error NonceAlreadyUsed(address account, uint16 currency, uint256 nonce);
    /// @notice Thrown when a nonce lies outside the account's window `[base, base + 64)`.
    error NonceOutOfWindow(address account, uint16 currency, uint256 nonce, uint256 base);

    // ───────────────────────────── Settlement agent, freezer, enforcer ─────────────────────────────

    /// @notice Issues reserves to a bank against off-chain reserves. Settlement agent only.
    function issueReserves(uint16 bankId, uint16 currency, uint256 amount) external;

    /// @notice Redeems a bank's reserves, which must cover `amount`. Settlement agent only.
    function redeemReserves(uint16 bankId, uint16 currency, uint256 amount) external;

    /// @notice Freezes or unfreezes an account. The account's bank admin or a freezer.
    function setFrozen(address account, uint16 currency, bool frozen) external;

    /// @notice Moves deposits without the holder's signature, e.g. under a court order. Enforcer only.
    /// @dev Works on frozen accounts and while paused: it is the remedial tool. A cross-bank move moves
    /// reserves too, and may take the sending bank's reserves up to its debit cap.
    function forceTransfer(
        address from,
        address to,
        uint16 currency,
        uint256 amount,
        bytes32 caseRef
    ) external;

    // ───────────────────────────────────────── Bank admin ─────────────────────────────────────────

    /// @notice Opens an empty account for a customer (e.g. a merchant) of the caller's bank.
    function openAccount(address account, uint16 currency) external;

    /// @notice Closes an empty account of the caller's bank; its nonce state is kept.
    function closeAccount(address account, uint16 currency) external;

    /// @notice Issues deposits to a customer of the caller's bank (cash-in); opens the account if needed.
    function issueDeposits(address account, uint16 currency, uint256 amount) external;

    /// @notice Redeems a customer's deposits at the caller's bank (cash-out).
    function redeemDeposits(address account, uint16 currency, uint256 amount) external;

    /// @notice Sets a customer's daily spending limit; 0 removes it.
    function setCustomerLimit(address account, uint16 currency, uint96 dailyLimit) external;

    // ────────────────────────────────────────── Relayer ───────────────────────────────────────────

    /// @notice Settles a batch of payments signed by customers of the caller's bank, in one currency.
    /// @dev Each item settles or is skipped with `PaymentRejected`; only malformed input or an unauthorized
    /// caller reverts. Merchant credits and the interbank reserve leg are applied once per batch, at its end,
    /// after every item has been checked in order; a payer cannot spend within a batch what it receives in
    /// that same batch.
    /// @param currency ISO 4217 numeric code shared by every item.
    /// @param payees Packed table of 22-byte entries: payee address (20) ‖ payee bank (uint16).
    /// @param items Packed items, see `docs/contracts.md`: payer (20) ‖ payee index (uint16) ‖ amount (uint96) ‖
    /// nonce (uint48) ‖ deadline (uint40) ‖ qrHash (32) ‖ kind (uint8) ‖ signature. Kind 0: r (32) ‖ vs (32)
    /// (EIP-2098). Kind 1: length (uint16) ‖ ERC-1271 signature bytes.
    /// @return settledCount Number of items settled.
    /// @return root Merkle root of the settled payment ids (zero when none settled).
    function settlePayments(
        uint16 currency,
        bytes calldata payees,
        bytes calldata items
    ) external returns (uint256 settledCount, bytes32 root);

    /// @notice Settles one cross-currency payment, both legs or neither. Only the FX module (the registry's
    /// FX_SETTLEMENT_ROLE) may call it.
    /// @return reason None if settled, else why not; nothing changed then.
    function settleCrossCurrency(
        CrossCurrencyPayment calldata payment
    ) external returns (RejectReason reason);

    /// @notice Settles refunds signed by customers of the caller's bank; each settles or is skipped.
    /// @return refundedCount Number of refunds settled.
    function refundPayments(RefundRequest[] calldata refunds) external returns (uint256 refundedCount);

    // ──────────────────────────────────────── Account holder ─────────────────────────────────────

    /// @notice Cancels one of the caller's unused nonces, so a payment signed with it can never settle.
    function cancelNonce(uint16 currency, uint256 nonce) external;

    /// @notice Cancels every nonce of the caller below `newBase`.
    function invalidateNonces(uint16 currency, uint256 newBase) external;

    // ─────────────────────────────────────────── Views ────────────────────────────────────────────

    /// @notice The registry this ledger takes banks, keys, caps, roles and the pause from.
    function registry() external view returns (IBankRegistry);

    /// @notice A currency's totals over all banks.
    function getSupply(uint16 currency) external view returns (Supply memory);

    /// @notice The EIP-712 digest of a payment, which is also its payment id.
    function hashPayment(Payment calldata payment) external view returns (bytes32);

    /// @notice The EIP-712 digest of a refund, which is also its refund id.
    function hashRefund(Refund calldata refund) external view returns (bytes32);

    /// @notice The EIP-712 domain separator of this deployment.
    function domainSeparator() external view returns (bytes32);

    /// @notice An account's state in a currency.
    function getAccount(address account, uint16 currency) external view returns (AccountView memory);

    /// @notice An account's deposit balance in a currency.
    function balanceOf(address account, uint16 currency) external view returns (uint256);

    /// @notice Whether a nonce of an account can no longer be used (used, cancelled or below the window).
    function isNonceUsed(address account, uint16 currency, uint256 nonce) external view returns (bool);

    /// @notice A bank's reserves (negative while it uses its debit cap) and its customers' total deposits.
    function getPosition(
        uint16 bankId,
        uint16 currency
    ) external view returns (int256 reserves, uint256 deposits);

    /// @notice A customer's daily limit state.
    function getCustomerLimit(address account, uint16 currency) external view returns (CustomerLimit memory);

    /// @notice Total refunded so far against a payment.
    function refundedAmount(bytes32 paymentId) external view returns (uint256);

    /// @notice The payer bank of the batch with this settled-payments root, or 0 if unknown.
    function batchRootBank(bytes32 root) external view returns (uint16);
}
