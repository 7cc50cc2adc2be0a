// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

import {BankLimits, BankStatus, IBankRegistry} from "./interfaces/IBankRegistry.sol";
import {
    AccountView,
    CrossCurrencyPayment,
    CustomerLimit,
    ISettlementLedger,
    Payment,
    Refund,
    RefundRequest,
    RejectReason,
    Supply
} from "./interfaces/ISettlementLedger.sol";
import {Account, AccountLib} from "./libraries/AccountLib.sol";
import {BatchCodecLib, BatchItem} from "./libraries/BatchCodecLib.sol";
import {PaymentHashLib} from "./libraries/PaymentHashLib.sol";
import {SignatureLib} from "./libraries/SignatureLib.sol";

/// @title QRSettle settlement ledger
/// @notice Two tiers of money, as in Brazil's Drex pilot: wholesale reserves held by banks and issued by a
/// settlement agent, and customer deposits issued by each bank. Customers pay by signing EIP-712 payments that
/// their bank's relayer settles in batches: the payer's deposit goes down, the payee's goes up and, between
/// banks, reserves move from the payer's bank to the payee's, netted per batch.
/// Banks, keys, caps, roles and the pause live in the `BankRegistry`; this contract holds the money.
/// @dev Immutable by design (no proxy): a new version is a new deployment and a migration, see
/// `docs/contracts.md`. External calls go only to the registry (views) and to ERC-1271 wallets
/// (`staticcall`), so nothing can re-enter.
contract SettlementLedger is ISettlementLedger, EIP712 {
    using AccountLib for Account;
    using PaymentHashLib for Payment;
    using PaymentHashLib for Refund;

    /// @dev Registry roles this contract checks; `BankRegistry` defines the same ids.
    bytes32 private constant SETTLEMENT_AGENT_ROLE = keccak256("SETTLEMENT_AGENT_ROLE");
    bytes32 private constant FREEZER_ROLE = keccak256("FREEZER_ROLE");
    bytes32 private constant ENFORCER_ROLE = keccak256("ENFORCER_ROLE");
    bytes32 private constant FX_SETTLEMENT_ROLE = keccak256("FX_SETTLEMENT_ROLE");

    /// @dev Parts of a batch named by `MalformedBatch`.
    uint8 private constant PART_PAYEES = 0;
    uint8 private constant PART_ITEMS = 1;
    /// @dev `AccountLib`'s word layout, for the batch loop's assembly.
    uint256 private constant ACCOUNT_BALANCE_MASK = (1 << 96) - 1;
    uint256 private constant ACCOUNT_BITMAP_SHIFT = 96;
    uint256 private constant ACCOUNT_BITMAP_MASK = (1 << 64) - 1;
    uint256 private constant ACCOUNT_BASE_SHIFT = 160;
    uint256 private constant ACCOUNT_BASE_MASK = (1 << 48) - 1;
    uint256 private constant ACCOUNT_BANK_SHIFT = 208;
    uint256 private constant ACCOUNT_FROZEN_BIT = 1 << 224;
    uint256 private constant ACCOUNT_LIMITED_BIT = 1 << 225;
    uint256 private constant ACCOUNT_MAX_NONCE = (1 << 47) - 1;
    uint256 private constant ACCOUNT_WINDOW_AND_BALANCE = (1 << 208) - 1;
    uint256 private constant ADDRESS_MASK = (1 << 160) - 1;
    uint256 private constant ITEM_HEAD_SIZE = 78;
    uint256 private constant SIG_KIND_ERC1271 = 1;
    /// @dev secp256k1n / 2: the largest `s` a non-malleable signature may carry.
    uint256 private constant SECP256K1_HALF_ORDER =
        0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    /// @dev Distinct payee banks one batch may pay; the registry answers for them in one 256-bit mask.
    uint256 private constant MAX_PAYEE_BANKS = 256;

    /// @dev A bank's money in one currency, in one slot: reserves it holds (negative while it draws on its
    /// debit cap) and the deposits its customers hold.
    struct Position {
        int128 reserves;
        uint128 deposits;
    }

    /// @dev Batch-wide state, in memory. `reserves` is the payer bank's running reserve balance. `entries`
    /// is the payee table (see `BatchCodecLib`) with each payee's batch total in `credits`; `payeeBanks`
    /// lists the distinct payee banks, with what each receives in `inflows`.
    struct BatchContext {
        uint16 payerBank;
        uint16 currency;
        bytes32 domainSeparator;
        int256 reserves;
        int256 reserveFloor;
        uint256 maxPayment;
        uint256 outflow;
        uint256 settled;
        uint256 rejected;
        uint256[] entries;
        uint256[] credits;
        uint16[] payeeBanks;
        uint256[] inflows;
    }

    /// @dev A move between two customer accounts outside a batch (a refund, a cross-currency payment): the sender
    /// is debited `sendAmount` in `sendCurrency`, the receiver credited `receiveAmount` in `receiveCurrency`, and
    /// reserves move sender bank → provider bank (send currency) → receiver bank (receive currency). A
    /// same-currency move names one of its own banks as provider. Payments also face the bank's single-payment
    /// cap and the sender's daily limit; refunds do not.
    struct Transfer {
        address sender;
        uint16 senderBank;
        uint16 sendCurrency;
        uint256 sendAmount;
        uint256 nonce;
        address receiver;
        uint16 receiverBank;
        uint16 receiveCurrency;
        uint256 receiveAmount;
        uint16 providerBank;
        bool isPayment;
    }

    /// @notice The registry this ledger takes banks, keys, caps, roles and the pause from.
    IBankRegistry public immutable registry;

    mapping(uint16 currency => mapping(address account => Account)) private _accounts;
    mapping(uint16 currency => Supply) private _supplies;
    mapping(uint16 bankId => mapping(uint16 currency => Position)) private _positions;
    mapping(uint16 currency => mapping(address account => CustomerLimit)) private _customerLimits;
    mapping(bytes32 root => uint16 payerBank) private _batchRoots;
    mapping(bytes32 paymentId => uint256 amount) private _refunded;

    /// @param registry_ The bank registry; fixed for the life of this ledger.
    constructor(IBankRegistry registry_) EIP712("QRSettle", "1") {
        registry = registry_;
    }

    // The modifiers call functions rather than inline their checks: each use would otherwise copy the
    // registry call into the bytecode, and the ledger must stay under the EIP-170 size limit.
    modifier whenNotPaused() {
        _requireNotPaused();
        _;
    }

    modifier onlyRegistryRole(bytes32 role) {
        _requireRegistryRole(role);
        _;
    }

    // ───────────────────────────── Settlement agent, freezer, enforcer ─────────────────────────────

    /// @inheritdoc ISettlementLedger
    function issueReserves(
        uint16 bankId,
        uint16 currency,
        uint256 amount
    ) external onlyRegistryRole(SETTLEMENT_AGENT_ROLE) whenNotPaused {
        _requireRegisteredBank(bankId);
        _requireEnabledCurrency(currency);
        _requireAmount(amount);
        Supply storage supply = _supplies[currency];
        if (supply.reserves + amount > type(uint96).max)
            revert SupplyCapExceeded(currency, supply.reserves, amount);
        // The currency total is at most 2^96 - 1, so it bounds every position and the casts below.
        supply.reserves += uint96(amount);
        _positions[bankId][currency].reserves += int128(int256(amount));
        emit ReservesIssued(bankId, currency, amount);
    }

    /// @inheritdoc ISettlementLedger
    function redeemReserves(
        uint16 bankId,
        uint16 currency,
        uint256 amount
    ) external onlyRegistryRole(SETTLEMENT_AGENT_ROLE) whenNotPaused {
        _requireAmount(amount);
        Position storage position = _positions[bankId][currency];
        if (position.reserves < int256(amount))
            revert InsufficientReserves(bankId, currency, position.reserves, amount);
        position.reserves -= int128(int256(amount));
        _supplies[currency].reserves -= uint96(amount);
        emit ReservesRedeemed(bankId, currency, amount);
    }

    /// @inheritdoc ISettlementLedger
    function setFrozen(address account, uint16 currency, bool frozen) external {
        Account a = _accounts[currency][account];
        bool isAccountsBankAdmin = a.bank() != 0 && registry.adminBank(msg.sender) == a.bank();
        if (!isAccountsBankAdmin && !registry.hasRole(FREEZER_ROLE, msg.sender)) {
            revert NotAccountController(msg.sender, account, currency);
        }
        _accounts[currency][account] = a.withFrozen(frozen);
        emit AccountFrozen(account, currency, frozen, msg.sender);
    }

    /// @inheritdoc ISettlementLedger
    function forceTransfer(
        address from,
        address to,
        uint16 currency,
        uint256 amount,
        bytes32 caseRef
    ) external onlyRegistryRole(ENFORCER_ROLE) {
        _requireAmount(amount);
        mapping(address => Account) storage accounts = _accounts[currency];
        Account source = accounts[from];
        uint16 fromBank = source.bank();
        if (fromBank == 0) revert AccountNotOpen(from, currency);
        uint16 toBank = accounts[to].bank();
        if (toBank == 0) revert AccountNotOpen(to, currency);
        if (source.balance() < amount) revert InsufficientDeposits(from, currency, source.balance(), amount);
        if (fromBank != toBank) _requireReserveHeadroom(fromBank, currency, amount);

        accounts[from] = source.withBalance(source.balance() - amount);
        Account target = accounts[to];
        accounts[to] = target.withBalance(target.balance() + amount);
        emit ForcedTransfer(from, to, currency, fromBank, toBank, amount, caseRef);
        _moveInterbank(fromBank, toBank, currency, amount);
    }

    // ───────────────────────────────────────── Bank admin ─────────────────────────────────────────

    /// @inheritdoc ISettlementLedger
    function openAccount(address account, uint16 currency) external {
        _openAccount(account, currency, registry.adminTerms(msg.sender, currency));
    }

    /// @inheritdoc ISettlementLedger
    function closeAccount(address account, uint16 currency) external {
        uint16 bankId = registry.adminTerms(msg.sender, currency);
        Account a = _customerAccount(account, currency, bankId);
        if (a.balance() != 0) revert AccountNotEmpty(account, currency, a.balance());
        if (a.isFrozen()) revert AccountIsFrozen(account, currency);
        delete _customerLimits[currency][account];
        _accounts[currency][account] = a.withBank(0).withLimited(false);
        emit AccountClosed(account, currency, bankId);
    }

    /// @inheritdoc ISettlementLedger
    function issueDeposits(address account, uint16 currency, uint256 amount) external whenNotPaused {
        uint16 bankId = registry.adminTerms(msg.sender, currency);
        _requireAmount(amount);
        Supply storage supply = _supplies[currency];
        if (supply.deposits + amount > type(uint96).max)
            revert SupplyCapExceeded(currency, supply.deposits, amount);
        Account a = _openAccount(account, currency, bankId);
        if (a.isFrozen()) revert AccountIsFrozen(account, currency);
        supply.deposits += uint96(amount);
        _positions[bankId][currency].deposits += uint128(amount);
        _accounts[currency][account] = a.withBalance(a.balance() + amount);
        emit DepositsIssued(account, currency, bankId, amount);
    }

    /// @inheritdoc ISettlementLedger
    function redeemDeposits(address account, uint16 currency, uint256 amount) external whenNotPaused {
        uint16 bankId = registry.adminTerms(msg.sender, currency);
        _requireAmount(amount);
        Account a = _customerAccount(account, currency, bankId);
        if (a.isFrozen()) revert AccountIsFrozen(account, currency);
        if (a.balance() < amount) revert InsufficientDeposits(account, currency, a.balance(), amount);
        _accounts[currency][account] = a.withBalance(a.balance() - amount);
        _positions[bankId][currency].deposits -= uint128(amount);
        _supplies[currency].deposits -= uint96(amount);
        emit DepositsRedeemed(account, currency, bankId, amount);
    }

    /// @inheritdoc ISettlementLedger
    function setCustomerLimit(address account, uint16 currency, uint96 dailyLimit) external {
        uint16 bankId = registry.adminTerms(msg.sender, currency);
        Account a = _customerAccount(account, currency, bankId);
        _customerLimits[currency][account].dailyLimit = dailyLimit;
        _accounts[currency][account] = a.withLimited(dailyLimit != 0);
        emit CustomerLimitSet(account, currency, dailyLimit);
    }

    // ────────────────────────────────────────── Relayer ───────────────────────────────────────────

    /// @inheritdoc ISettlementLedger
    function settlePayments(
        uint16 currency,
        bytes calldata payees,
        bytes calldata items
    ) external whenNotPaused returns (uint256 settledCount, bytes32 root) {
        if (items.length == 0) revert EmptyBatch();
        BatchContext memory ctx = _openBatch(currency);
        mapping(address => Account) storage accounts = _accounts[currency];
        _loadPayees(ctx, payees, accounts);
        bytes32[] memory settledIds = _processItems(ctx, accounts, items);
        _creditPayees(ctx, accounts);
        if (ctx.settled != 0) {
            root = _merkleRoot(settledIds, ctx.settled);
            _batchRoots[root] = ctx.payerBank;
        }
        emit BatchSettled(ctx.payerBank, currency, root, ctx.settled, ctx.rejected);
        return (ctx.settled, root);
    }

    /// @inheritdoc ISettlementLedger
    function settleCrossCurrency(
        CrossCurrencyPayment calldata p
    ) external onlyRegistryRole(FX_SETTLEMENT_ROLE) whenNotPaused returns (RejectReason reason) {
        Transfer memory t = Transfer({
            sender: p.payer,
            senderBank: p.payerBank,
            sendCurrency: p.payCurrency,
            sendAmount: p.payAmount,
            nonce: p.nonce,
            receiver: p.payee,
            receiverBank: p.payeeBank,
            receiveCurrency: p.receiveCurrency,
            receiveAmount: p.receiveAmount,
            providerBank: p.providerBank,
            isPayment: true
        });
        reason = _checkTransfer(t);
        if (reason != RejectReason.None) return reason;
        _moveTransferDeposits(t);
        emit CrossCurrencySettled(
            p.payer,
            p.payee,
            p.paymentId,
            p.qrHash,
            _legTerms(p.payAmount, p.payerBank, p.providerBank, p.payCurrency),
            _legTerms(p.receiveAmount, p.providerBank, p.payeeBank, p.receiveCurrency)
        );
        _moveTransferReserves(t);
    }

    /// @inheritdoc ISettlementLedger
    function refundPayments(
        RefundRequest[] calldata refunds
    ) external whenNotPaused returns (uint256 refundedCount) {
        uint16 relayerBankId = registry.relayerBank(msg.sender);
        if (relayerBankId == 0) revert IBankRegistry.UnauthorizedRelayer(msg.sender);
        if (registry.bankStatus(relayerBankId) != BankStatus.Active)
            revert IBankRegistry.BankNotActive(relayerBankId);
        bytes32 separator = _domainSeparatorV4();
        for (uint256 i; i < refunds.length; ++i) {
            RefundRequest calldata request = refunds[i];
            bytes32 paymentId = MessageHashUtils.toTypedDataHash(separator, request.payment.hash());
            Refund memory refund = Refund(paymentId, request.amount, request.nonce, request.deadline);
            bytes32 refundId = MessageHashUtils.toTypedDataHash(separator, refund.hash());
            RejectReason reason = _refund(request, relayerBankId, paymentId, refundId);
            if (reason == RejectReason.None) {
                ++refundedCount;
            } else {
                emit RefundRejected(refundId, paymentId, reason);
            }
        }
    }

    // ──────────────────────────────────────── Account holder ─────────────────────────────────────

    /// @inheritdoc ISettlementLedger
    function cancelNonce(uint16 currency, uint256 nonce) external {
        Account a = _accounts[currency][msg.sender];
        (Account updated, AccountLib.NonceCheck check) = a.useNonce(nonce);
        if (check == AccountLib.NonceCheck.Used) revert NonceAlreadyUsed(msg.sender, currency, nonce);
        if (check == AccountLib.NonceCheck.OutOfWindow)
            revert NonceOutOfWindow(msg.sender, currency, nonce, a.nonceBase());
        _accounts[currency][msg.sender] = updated;
        emit NonceCancelled(msg.sender, currency, nonce);
    }

    /// @inheritdoc ISettlementLedger
    function invalidateNonces(uint16 currency, uint256 newBase) external {
        Account a = _accounts[currency][msg.sender];
        if (newBase > AccountLib.MAX_NONCE_BASE)
            revert NonceOutOfWindow(msg.sender, currency, newBase, a.nonceBase());
        Account updated = a.advanceNonceBase(newBase);
        _accounts[currency][msg.sender] = updated;
        emit NoncesInvalidated(msg.sender, currency, updated.nonceBase());
    }

    // ─────────────────────────────────────────── Views ────────────────────────────────────────────

    /// @inheritdoc ISettlementLedger
    function hashPayment(Payment calldata payment) external view returns (bytes32) {
        return _hashTypedDataV4(payment.hash());
    }

    /// @inheritdoc ISettlementLedger
    function hashRefund(Refund calldata refund) external view returns (bytes32) {
        return _hashTypedDataV4(refund.hash());
    }

    /// @inheritdoc ISettlementLedger
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc ISettlementLedger
    function getAccount(address account, uint16 currency) external view returns (AccountView memory) {
        Account a = _accounts[currency][account];
        return
            AccountView({
                bankId: a.bank(),
                balance: uint96(a.balance()),
                frozen: a.isFrozen(),
                limited: a.isLimited(),
                nonceBase: a.nonceBase(),
                nonceBitmap: a.nonceBitmap()
            });
    }

    /// @inheritdoc ISettlementLedger
    function balanceOf(address account, uint16 currency) external view returns (uint256) {
        return _accounts[currency][account].balance();
    }

    /// @inheritdoc ISettlementLedger
    function isNonceUsed(address account, uint16 currency, uint256 nonce) external view returns (bool) {
        return _accounts[currency][account].isNonceUsed(nonce);
    }

    /// @inheritdoc ISettlementLedger
    function getPosition(
        uint16 bankId,
        uint16 currency
    ) external view returns (int256 reserves, uint256 deposits) {
        Position storage position = _positions[bankId][currency];
        return (position.reserves, position.deposits);
    }

    /// @inheritdoc ISettlementLedger
    function getCustomerLimit(address account, uint16 currency) external view returns (CustomerLimit memory) {
        return _customerLimits[currency][account];
    }

    /// @inheritdoc ISettlementLedger
    function getSupply(uint16 currency) external view returns (Supply memory) {
        return _supplies[currency];
    }

    /// @inheritdoc ISettlementLedger
    function refundedAmount(bytes32 paymentId) external view returns (uint256) {
        return _refunded[paymentId];
    }

    /// @inheritdoc ISettlementLedger
    function batchRootBank(bytes32 root) external view returns (uint16) {
        return _batchRoots[root];
    }

    // ───────────────────────────────────── Internal: batches ──────────────────────────────────────

    /// @dev Checks the caller and currency, and loads the payer bank's position and caps once per batch.
    function _openBatch(uint16 currency) private view returns (BatchContext memory ctx) {
        BankLimits memory limits;
        (ctx.payerBank, limits) = registry.relayerTerms(msg.sender, currency);
        ctx.currency = currency;
        ctx.domainSeparator = _domainSeparatorV4();
        ctx.reserves = _positions[ctx.payerBank][currency].reserves;
        ctx.reserveFloor = -int256(uint256(limits.debitCap));
        ctx.maxPayment = limits.maxPayment;
    }

    /// @dev Decodes the payee table and decides once per payee whether it can be paid; collects the distinct
    /// payee banks and asks the registry about all of them in one call. Each payee's account slot becomes
    /// warm here, so crediting it at the end of the batch costs a warm write.
    function _loadPayees(
        BatchContext memory ctx,
        bytes calldata payees,
        mapping(address => Account) storage accounts
    ) private view {
        uint256 count = payees.length / BatchCodecLib.PAYEE_ENTRY_SIZE;
        if (
            count == 0 ||
            count > BatchCodecLib.MAX_PAYEES ||
            payees.length % BatchCodecLib.PAYEE_ENTRY_SIZE != 0
        ) {
            revert MalformedBatch(PART_PAYEES, payees.length);
        }
        uint256[] memory entries = new uint256[](count);
        uint16[] memory banks = new uint16[](MAX_PAYEE_BANKS);
        uint256 bankCount;
        for (uint256 i; i < count; ++i) {
            (address payee, uint16 bank) = BatchCodecLib.readPayee(payees, i);
            uint256 j;
            while (j < bankCount && banks[j] != bank) ++j;
            if (j == bankCount) {
                if (bankCount == MAX_PAYEE_BANKS)
                    revert MalformedBatch(PART_PAYEES, i * BatchCodecLib.PAYEE_ENTRY_SIZE);
                banks[bankCount++] = bank;
            }
            entries[i] = BatchCodecLib.packEntry(payee, bank, j, RejectReason.None);
        }
        assembly ("memory-safe") {
            mstore(banks, bankCount) // shrink to the distinct banks found
        }
        uint256 activeMask = registry.activeBanks(banks);
        for (uint256 i; i < count; ++i) {
            uint256 entry = entries[i];
            (address payee, uint16 bank, uint256 bankIndex, ) = BatchCodecLib.unpackEntry(entry);
            Account a = accounts[payee];
            RejectReason reason;
            if ((activeMask >> bankIndex) & 1 == 0) reason = RejectReason.ReceiverBankInactive;
            else if (a.bank() != bank) reason = RejectReason.ReceiverNotCustomer;
            else if (a.isFrozen()) reason = RejectReason.ReceiverFrozen;
            if (reason != RejectReason.None)
                entries[i] = BatchCodecLib.packEntry(payee, bank, bankIndex, reason);
        }
        ctx.entries = entries;
        ctx.credits = new uint256[](count);
        ctx.payeeBanks = banks;
        ctx.inflows = new uint256[](bankCount);
    }

    /// @dev Processes every item in order: settles it or emits why it was skipped.
    /// @return settledIds Ids of the settled payments, in order, in the first `ctx.settled` slots.
    function _processItems(
        BatchContext memory ctx,
        mapping(address => Account) storage accounts,
        bytes calldata items
    ) private returns (bytes32[] memory settledIds) {
        // Every item is at least a head and a two-byte signature length, which bounds the ids needed.
        settledIds = new bytes32[](items.length / BatchCodecLib.ITEM_HEAD_SIZE);
        uint256 accountsSlot;
        assembly ("memory-safe") {
            accountsSlot := accounts.slot
        }
        uint256 limitsSlot = _customerLimitsSlot(ctx.currency);
        BatchItem memory item;
        uint256 offset;
        while (offset < items.length) {
            bool signed;
            (offset, signed) = _readItem(ctx, items, offset, item);
            RejectReason reason =
                signed ? _applyItem(ctx, item, accountsSlot, limitsSlot) : RejectReason.InvalidSignature;
            if (reason == RejectReason.None) {
                settledIds[ctx.settled++] = item.paymentId;
            } else {
                ++ctx.rejected;
                emit PaymentRejected(item.paymentId, item.payer, reason);
            }
        }
    }

    /// @dev Decodes the item at `offset` into `item`, computes its payment id and checks its signature.
    /// Assembly for the same reason as `_applyItem`; `BatchCodecLib` documents the layout.
    /// @return next Offset of the following item.
    /// @return signed Whether the payer signed exactly this payment.
    function _readItem(
        BatchContext memory ctx,
        bytes calldata items,
        uint256 offset,
        BatchItem memory item
    ) private view returns (uint256 next, bool signed) {
        uint256[] memory entries = ctx.entries;
        bytes32 separator = ctx.domainSeparator;
        uint256 currency = ctx.currency;
        bytes32 typehash = PaymentHashLib.PAYMENT_TYPEHASH;
        uint256 kind;
        bool malformed;
        assembly ("memory-safe") {
            for {} 1 {} {
                if lt(sub(items.length, offset), ITEM_HEAD_SIZE) {
                    malformed := 1
                    break
                }
                let p := add(items.offset, offset)
                let head := calldataload(p)
                let index := and(shr(80, head), 0xffff)
                kind := byte(0, calldataload(add(p, 77)))
                if or(iszero(lt(index, mload(entries))), gt(kind, SIG_KIND_ERC1271)) {
                    malformed := 1
                    break
                }
                let entry := mload(add(entries, shl(5, add(index, 1))))
                let terms := calldataload(add(p, 22))
                mstore(item, shr(96, head)) // payer
                mstore(add(item, 0x20), entry)
                mstore(add(item, 0x40), index)
                mstore(add(item, 0x60), shr(160, terms)) // amount
                mstore(add(item, 0x80), and(shr(112, terms), 0xffffffffffff)) // nonce
                mstore(add(item, 0xa0), and(shr(72, terms), 0xffffffffff)) // deadline
                mstore(add(item, 0xc0), calldataload(add(p, 45))) // qrHash

                // paymentId = keccak256("\x19\x01" ‖ domainSeparator ‖ hashStruct(Payment))
                let m := mload(0x40)
                mstore(m, typehash)
                mstore(add(m, 0x20), shr(96, head))
                mstore(add(m, 0x40), and(entry, ADDRESS_MASK))
                mstore(add(m, 0x60), and(shr(160, entry), 0xffff))
                mstore(add(m, 0x80), currency)
                mstore(add(m, 0xa0), mload(add(item, 0x60))) // amount
                mstore(add(m, 0xc0), mload(add(item, 0xc0))) // qrHash
                mstore(add(m, 0xe0), mload(add(item, 0x80))) // nonce
                mstore(add(m, 0x100), mload(add(item, 0xa0))) // deadline
                let structHash := keccak256(m, 0x120)
                mstore(m, hex"1901")
                mstore(add(m, 0x02), separator)
                mstore(add(m, 0x22), structHash)
                mstore(add(item, 0xe0), keccak256(m, 0x42))
                break
            }
        }
        if (malformed) revert MalformedBatch(PART_ITEMS, offset);

        uint256 signatureAt = offset + BatchCodecLib.ITEM_HEAD_SIZE;
        if (kind == BatchCodecLib.SIG_KIND_COMPACT) {
            next = signatureAt + BatchCodecLib.COMPACT_SIGNATURE_SIZE;
            if (next > items.length) revert MalformedBatch(PART_ITEMS, offset);
            assembly ("memory-safe") {
                let p := add(items.offset, signatureAt)
                let vs := calldataload(add(p, 0x20))
                let s := and(vs, sub(shl(255, 1), 1))
                // High-s signatures are malleable twins of valid ones: refuse them.
                if iszero(gt(s, SECP256K1_HALF_ORDER)) {
                    let m := mload(0x40)
                    mstore(m, mload(add(item, 0xe0)))
                    mstore(add(m, 0x20), add(27, shr(255, vs)))
                    mstore(add(m, 0x40), calldataload(p))
                    mstore(add(m, 0x60), s)
                    // ecrecover returns nothing for an invalid signature, so a stale 0x00 word cannot match.
                    mstore(0x00, 0)
                    pop(staticcall(gas(), 0x01, m, 0x80, 0x00, 0x20))
                    let signer := mload(0x00)
                    signed := and(iszero(iszero(signer)), eq(signer, mload(item)))
                }
            }
        } else {
            (next, signed) = _verifyERC1271Item(items, offset, item);
        }
    }

    /// @dev The signature of a smart-account payer: length (uint16) ‖ bytes, checked with ERC-1271.
    function _verifyERC1271Item(
        bytes calldata items,
        uint256 offset,
        BatchItem memory item
    ) private view returns (uint256 next, bool signed) {
        uint256 signatureAt = offset + BatchCodecLib.ITEM_HEAD_SIZE;
        if (items.length - signatureAt < 2) revert MalformedBatch(PART_ITEMS, offset);
        uint256 length = uint16(bytes2(items[signatureAt:signatureAt + 2]));
        next = signatureAt + 2 + length;
        if (next > items.length) revert MalformedBatch(PART_ITEMS, offset);
        signed =
            item.payer.code.length != 0 &&
            SignatureLib.isValidERC1271Calldata(item.payer, item.paymentId, items[signatureAt + 2:next]);
    }

    /// @dev Checks a signed item against the ledger and, if every check passes, debits the payer, emits
    /// `PaymentSettled` and records the payee's credit and the reserve leg for the end of the batch. Writes
    /// nothing if a check fails.
    /// @return reason None if settled, else the first check that failed.
    function _applyItem(
        BatchContext memory ctx,
        BatchItem memory item,
        uint256 accountsSlot,
        uint256 limitsSlot
    ) private returns (RejectReason reason) {
        bool crossBank;
        // reserves - floor < 2^128, so the headroom is exact.
        (reason, crossBank) = _debitPayer(
            item,
            accountsSlot,
            limitsSlot,
            ctx.payerBank,
            ctx.maxPayment,
            ctx.reserves - ctx.reserveFloor
        );
        if (reason != RejectReason.None) return reason;
        _recordSettled(ctx, item);
        // Amounts are below 2^96 and totals below 2^96 per currency: no overflow.
        unchecked {
            if (crossBank) {
                ctx.reserves -= int256(item.amount);
                ctx.outflow += item.amount;
            }
        }
    }

    /// @dev The checks of one item, in order, and if all pass the payer's debit: one write to its account word
    /// (balance and nonce window), and to its daily-limit word if it has one.
    ///
    /// Written in assembly because it runs once per payment: the same checks in high-level Solidity cost
    /// about 1,000 instructions more per item, mostly stack shuffling between small functions. The account
    /// word's layout is `AccountLib`'s; tests exercise every branch through `settlePayments`.
    /// @param headroom How much the payer bank may still pay out of reserves (reserves + debit cap).
    /// @return reason None if the payer was debited, else the first check that failed.
    /// @return crossBank Whether the payee banks elsewhere, so reserves move.
    function _debitPayer(
        BatchItem memory item,
        uint256 accountsSlot,
        uint256 limitsSlot,
        uint256 payerBank,
        uint256 maxPayment,
        int256 headroom
    ) private returns (RejectReason reason, bool crossBank) {
        assembly ("memory-safe") {
            let amount := mload(add(item, 0x60))
            let entry := mload(add(item, 0x20))
            mstore(0x00, mload(item))
            mstore(0x20, accountsSlot)
            let accountSlot := keccak256(0x00, 0x40)
            let account := sload(accountSlot)
            crossBank := iszero(eq(and(shr(160, entry), 0xffff), payerBank))
            let bitmap
            // One pass; the first failing check sets `reason` and breaks out. It stays 0 (None) if all pass.
            for {} 1 {} {
                if gt(timestamp(), mload(add(item, 0xa0))) {
                    reason := 2 // Expired
                    break
                }
                if shr(184, entry) {
                    reason := shr(184, entry) // the payee's own reason, from the payee table
                    break
                }
                if iszero(eq(and(shr(ACCOUNT_BANK_SHIFT, account), 0xffff), payerBank)) {
                    reason := 5 // SenderNotCustomer
                    break
                }
                if and(account, ACCOUNT_FROZEN_BIT) {
                    reason := 6 // SenderFrozen
                    break
                }
                if or(iszero(amount), and(iszero(iszero(maxPayment)), gt(amount, maxPayment))) {
                    reason := 10 // InvalidAmount
                    break
                }
                {
                    let base := and(shr(ACCOUNT_BASE_SHIFT, account), ACCOUNT_BASE_MASK)
                    let nonce := mload(add(item, 0x80))
                    if lt(nonce, base) {
                        reason := 3 // NonceUsed
                        break
                    }
                    if or(gt(sub(nonce, base), 63), gt(nonce, ACCOUNT_MAX_NONCE)) {
                        reason := 4 // NonceOutOfWindow
                        break
                    }
                    let bit := shl(sub(nonce, base), 1)
                    bitmap := and(shr(ACCOUNT_BITMAP_SHIFT, account), ACCOUNT_BITMAP_MASK)
                    if and(bitmap, bit) {
                        reason := 3 // NonceUsed
                        break
                    }
                    bitmap := or(bitmap, bit)
                }
                if lt(and(account, ACCOUNT_BALANCE_MASK), amount) {
                    reason := 11 // InsufficientBalance
                    break
                }
                if and(crossBank, slt(headroom, amount)) {
                    reason := 13 // InsufficientReserves
                    break
                }
                // Last check, because it records the day's spending when it passes.
                if and(account, ACCOUNT_LIMITED_BIT) {
                    mstore(0x20, limitsSlot)
                    let limitSlot := keccak256(0x00, 0x40)
                    let limit := sload(limitSlot)
                    let today := div(timestamp(), 86400)
                    let spent := amount
                    if eq(shr(192, limit), today) {
                        spent := add(spent, and(shr(96, limit), ACCOUNT_BALANCE_MASK))
                    }
                    if gt(spent, and(limit, ACCOUNT_BALANCE_MASK)) {
                        reason := 12 // DailyLimitExceeded
                        break
                    }
                    sstore(
                        limitSlot,
                        or(and(limit, ACCOUNT_BALANCE_MASK), or(shl(96, spent), shl(192, today)))
                    )
                }
                break
            }
            if iszero(reason) {
                // Slide the nonce window past the run of used nonces at its start (bit 0 is now set).
                let base := and(shr(ACCOUNT_BASE_SHIFT, account), ACCOUNT_BASE_MASK)
                for {} and(bitmap, 1) {} {
                    bitmap := shr(1, bitmap)
                    base := add(base, 1)
                }
                let kept := and(account, not(ACCOUNT_WINDOW_AND_BALANCE))
                let remaining := sub(and(account, ACCOUNT_BALANCE_MASK), amount)
                sstore(
                    accountSlot,
                    or(
                        or(kept, remaining),
                        or(shl(ACCOUNT_BITMAP_SHIFT, bitmap), shl(ACCOUNT_BASE_SHIFT, base))
                    )
                )
            }
        }
    }

    /// @dev Emits `PaymentSettled` for `item` (written out, so the batch loop skips the ABI encoder's
    /// generality) and adds its amount to the payee's credit for the end of the batch.
    function _recordSettled(BatchContext memory ctx, BatchItem memory item) private {
        bytes32 topic = PaymentSettled.selector;
        uint256 payerBank = ctx.payerBank;
        uint256 currency = ctx.currency;
        uint256[] memory credits = ctx.credits;
        assembly ("memory-safe") {
            let amount := mload(add(item, 0x60))
            let entry := mload(add(item, 0x20))
            let m := mload(0x40)
            mstore(m, mload(add(item, 0xe0))) // paymentId
            mstore(add(m, 0x20), mload(add(item, 0xc0))) // qrHash
            // terms: amount ‖ payer bank ‖ payee bank ‖ currency, as documented on the event
            mstore(
                add(m, 0x40),
                or(
                    or(amount, shl(96, payerBank)),
                    or(shl(112, and(shr(160, entry), 0xffff)), shl(128, currency))
                )
            )
            log3(m, 0x60, topic, mload(item), and(entry, ADDRESS_MASK))
            // credits[entryIndex] += amount; the index was checked against the table when decoding.
            let credit := add(credits, shl(5, add(mload(add(item, 0x40)), 1)))
            mstore(credit, add(mload(credit), amount))
        }
    }

    /// @dev Storage slot of `_customerLimits[currency]`, the mapping from account to its daily limit.
    function _customerLimitsSlot(uint16 currency) private view returns (uint256 slot) {
        mapping(address => CustomerLimit) storage limits = _customerLimits[currency];
        assembly ("memory-safe") {
            slot := limits.slot
        }
    }

    /// @dev Credits every payee once with its batch total, then settles the interbank leg: the payer bank's
    /// reserves and deposits go down by the cross-bank outflow; each payee bank's go up by what it received.
    function _creditPayees(BatchContext memory ctx, mapping(address => Account) storage accounts) private {
        for (uint256 i; i < ctx.entries.length; ++i) {
            uint256 credit = ctx.credits[i];
            if (credit == 0) continue;
            (address payee, uint16 bank, uint256 bankIndex, ) = BatchCodecLib.unpackEntry(ctx.entries[i]);
            Account a = accounts[payee];
            accounts[payee] = a.withBalance(a.balance() + credit);
            if (bank != ctx.payerBank) ctx.inflows[bankIndex] += credit;
        }
        if (ctx.outflow == 0) return;

        Position storage payerPosition = _positions[ctx.payerBank][ctx.currency];
        // Bounded by the currency's 96-bit total, so the casts are safe.
        payerPosition.reserves = int128(ctx.reserves);
        payerPosition.deposits -= uint128(ctx.outflow);
        for (uint256 j; j < ctx.payeeBanks.length; ++j) {
            uint256 inflow = ctx.inflows[j];
            if (inflow == 0) continue;
            uint16 bank = ctx.payeeBanks[j];
            Position storage position = _positions[bank][ctx.currency];
            position.reserves += int128(int256(inflow));
            position.deposits += uint128(inflow);
            emit InterbankSettled(ctx.payerBank, bank, ctx.currency, inflow);
        }
    }

    /// @dev Merkle root of `leaves[0:count]` with commutative keccak256 pairs, an odd node moving up as is;
    /// compatible with OpenZeppelin's `MerkleProof`. Overwrites `leaves`.
    function _merkleRoot(bytes32[] memory leaves, uint256 count) private pure returns (bytes32) {
        while (count > 1) {
            uint256 half = count / 2;
            for (uint256 i; i < half; ++i) {
                leaves[i] = Hashes.commutativeKeccak256(leaves[2 * i], leaves[2 * i + 1]);
            }
            if (count % 2 == 1) {
                leaves[half] = leaves[count - 1];
                count = half + 1;
            } else {
                count = half;
            }
        }
        return leaves[0];
    }

    // ───────────────────────────────────── Internal: refunds ──────────────────────────────────────

    /// @dev Checks and applies one refund: the payee pays back (part of) a settled payment to its payer.
    function _refund(
        RefundRequest calldata request,
        uint16 relayerBankId,
        bytes32 paymentId,
        bytes32 refundId
    ) private returns (RejectReason) {
        Payment calldata payment = request.payment;
        if (!SignatureLib.isValidCalldata(payment.payee, refundId, request.signature)) {
            return RejectReason.InvalidSignature;
        }
        if (block.timestamp > request.deadline) return RejectReason.Expired;
        uint16 payerBank = _batchRoots[request.batchRoot];
        if (payerBank == 0 || !MerkleProof.verifyCalldata(request.proof, request.batchRoot, paymentId)) {
            return RejectReason.UnknownPayment;
        }
        if (payment.payeeBank != relayerBankId) return RejectReason.NotRelayerBank;
        if (request.amount == 0) return RejectReason.InvalidAmount;
        // Subtract rather than add: refunded never exceeds the amount, and a huge request must not overflow.
        if (request.amount > payment.amount - _refunded[paymentId]) return RejectReason.RefundExceedsPayment;

        Transfer memory t = Transfer({
            sender: payment.payee,
            senderBank: payment.payeeBank,
            sendCurrency: payment.currency,
            sendAmount: request.amount,
            nonce: request.nonce,
            receiver: payment.payer,
            receiverBank: payerBank,
            receiveCurrency: payment.currency,
            receiveAmount: request.amount,
            providerBank: payment.payeeBank,
            isPayment: false
        });
        RejectReason reason = _checkTransfer(t);
        if (reason != RejectReason.None) return reason;

        _refunded[paymentId] += request.amount;
        _moveTransferDeposits(t);
        emit PaymentRefunded(
            paymentId,
            payment.payer,
            payment.payee,
            refundId,
            request.amount,
            payerBank,
            payment.payeeBank,
            payment.currency
        );
        _moveTransferReserves(t);
        return RejectReason.None;
    }

    // ────────────────────────────────── Internal: checked transfers ──────────────────────────────

    /// @dev Every check of a transfer between two customer accounts, in order: currencies enabled, banks active,
    /// sender and receiver accounts, amounts, the sender's nonce and balance, the reserve legs, and last (because
    /// passing records the spending) the sender's daily limit. Writes nothing else.
    function _checkTransfer(Transfer memory t) private returns (RejectReason) {
        if (
            !registry.getCurrency(t.sendCurrency).enabled || !registry.getCurrency(t.receiveCurrency).enabled
        ) {
            return RejectReason.CurrencyDisabled;
        }
        if (
            registry.bankStatus(t.receiverBank) != BankStatus.Active ||
            registry.bankStatus(t.providerBank) != BankStatus.Active
        ) {
            return RejectReason.ReceiverBankInactive;
        }
        Account sender = _accounts[t.sendCurrency][t.sender];
        if (sender.bank() != t.senderBank) return RejectReason.SenderNotCustomer;
        if (sender.isFrozen()) return RejectReason.SenderFrozen;
        Account receiver = _accounts[t.receiveCurrency][t.receiver];
        if (receiver.bank() != t.receiverBank) return RejectReason.ReceiverNotCustomer;
        if (receiver.isFrozen()) return RejectReason.ReceiverFrozen;
        if (t.sendAmount == 0 || t.receiveAmount == 0) return RejectReason.InvalidAmount;
        // Across currencies the receive currency's deposit total grows; it must stay within 96 bits.
        if (
            t.sendCurrency != t.receiveCurrency &&
            _supplies[t.receiveCurrency].deposits + t.receiveAmount > type(uint96).max
        ) {
            return RejectReason.InvalidAmount;
        }
        if (t.isPayment) {
            uint256 maxPayment = registry.getBankLimits(t.senderBank, t.sendCurrency).maxPayment;
            if (maxPayment != 0 && t.sendAmount > maxPayment) return RejectReason.InvalidAmount;
        }
        (, AccountLib.NonceCheck nonceCheck) = sender.useNonce(t.nonce);
        if (nonceCheck == AccountLib.NonceCheck.Used) return RejectReason.NonceUsed;
        if (nonceCheck == AccountLib.NonceCheck.OutOfWindow) return RejectReason.NonceOutOfWindow;
        if (sender.balance() < t.sendAmount) return RejectReason.InsufficientBalance;
        if (
            (t.senderBank != t.providerBank &&
                !_hasReserveHeadroom(t.senderBank, t.sendCurrency, t.sendAmount)) ||
            (t.providerBank != t.receiverBank &&
                !_hasReserveHeadroom(t.providerBank, t.receiveCurrency, t.receiveAmount))
        ) {
            return RejectReason.InsufficientReserves;
        }
        if (t.isPayment && sender.isLimited() && !_spendDailyLimit(t.sendCurrency, t.sender, t.sendAmount)) {
            return RejectReason.DailyLimitExceeded;
        }
        return RejectReason.None;
    }

    /// @dev Applies the deposit side of a transfer `_checkTransfer` passed: the sender's nonce and debit and
    /// the receiver's credit, with the deposit liabilities of their banks (and, across currencies, each
    /// currency's deposit total: the payer's deposit money leaves one currency and the merchant's enters the
    /// other). Callers emit their event, then `_moveTransferReserves`, so the log reads in the same order as a
    /// batch's: payment first, then the interbank legs.
    function _moveTransferDeposits(Transfer memory t) private {
        Account sender = _accounts[t.sendCurrency][t.sender];
        (Account updated, ) = sender.useNonce(t.nonce);
        _accounts[t.sendCurrency][t.sender] = updated.withBalance(sender.balance() - t.sendAmount);
        // Read after the write: sender and receiver may be the same account.
        Account receiver = _accounts[t.receiveCurrency][t.receiver];
        _accounts[t.receiveCurrency][t.receiver] = receiver.withBalance(receiver.balance() + t.receiveAmount);
        _positions[t.senderBank][t.sendCurrency].deposits -= uint128(t.sendAmount);
        _positions[t.receiverBank][t.receiveCurrency].deposits += uint128(t.receiveAmount);
        if (t.sendCurrency != t.receiveCurrency) {
            _supplies[t.sendCurrency].deposits -= uint96(t.sendAmount);
            _supplies[t.receiveCurrency].deposits += uint96(t.receiveAmount);
        }
    }

    /// @dev The reserve legs of a transfer: sender bank → provider bank in the send currency, provider bank →
    /// receiver bank in the receive currency (each a no-op within a bank). Deposits were moved already.
    function _moveTransferReserves(Transfer memory t) private {
        _moveReserves(t.senderBank, t.providerBank, t.sendCurrency, t.sendAmount);
        _moveReserves(t.providerBank, t.receiverBank, t.receiveCurrency, t.receiveAmount);
    }

    /// @dev Applies a customer's daily limit; records the spending and returns true if `amount` fits.
    function _spendDailyLimit(uint16 currency, address account, uint256 amount) private returns (bool) {
        CustomerLimit storage limit = _customerLimits[currency][account];
        uint64 today = uint64(block.timestamp / 1 days);
        uint256 spent = (limit.day == today ? limit.spentToday : 0) + amount;
        if (spent > limit.dailyLimit) return false;
        limit.spentToday = uint96(spent);
        limit.day = today;
        return true;
    }

    /// @dev One leg packed as the events document: amount ‖ from bank ‖ to bank ‖ currency.
    function _legTerms(
        uint256 amount,
        uint16 fromBank,
        uint16 toBank,
        uint16 currency
    ) private pure returns (uint256) {
        return amount | (uint256(fromBank) << 96) | (uint256(toBank) << 112) | (uint256(currency) << 128);
    }

    // ───────────────────────────────────── Internal: helpers ──────────────────────────────────────

    /// @dev Moves a cross-bank obligation in reserves, with the deposits it backs; no-op within one bank.
    function _moveInterbank(uint16 fromBank, uint16 toBank, uint16 currency, uint256 amount) private {
        if (fromBank == toBank) return;
        _positions[fromBank][currency].deposits -= uint128(amount);
        _positions[toBank][currency].deposits += uint128(amount);
        _moveReserves(fromBank, toBank, currency, amount);
    }

    /// @dev Moves reserves between two banks and emits `InterbankSettled`; no-op within one bank.
    function _moveReserves(uint16 fromBank, uint16 toBank, uint16 currency, uint256 amount) private {
        if (fromBank == toBank) return;
        _positions[fromBank][currency].reserves -= int128(int256(amount));
        _positions[toBank][currency].reserves += int128(int256(amount));
        emit InterbankSettled(fromBank, toBank, currency, amount);
    }

    function _openAccount(address account, uint16 currency, uint16 bankId) private returns (Account a) {
        if (account == address(0)) revert ZeroAddress();
        a = _accounts[currency][account];
        uint16 current = a.bank();
        if (current == bankId) return a;
        if (current != 0) revert AccountAtOtherBank(account, currency, current);
        a = a.withBank(bankId);
        _accounts[currency][account] = a;
        emit AccountOpened(account, currency, bankId);
    }

    function _customerAccount(
        address account,
        uint16 currency,
        uint16 bankId
    ) private view returns (Account a) {
        a = _accounts[currency][account];
        uint16 current = a.bank();
        if (current == 0) revert AccountNotOpen(account, currency);
        if (current != bankId) revert AccountAtOtherBank(account, currency, current);
    }

    function _requireNotPaused() private view {
        if (registry.paused()) revert NetworkPaused();
    }

    function _requireRegistryRole(bytes32 role) private view {
        if (!registry.hasRole(role, msg.sender)) revert MissingRole(msg.sender, role);
    }

    /// @dev Whether `bankId` can pay `amount` out of its reserves, drawing on its debit cap if it has one.
    function _hasReserveHeadroom(uint16 bankId, uint16 currency, uint256 amount) private view returns (bool) {
        int256 floor = -int256(uint256(registry.getBankLimits(bankId, currency).debitCap));
        return _positions[bankId][currency].reserves - int256(amount) >= floor;
    }

    function _requireReserveHeadroom(uint16 bankId, uint16 currency, uint256 amount) private view {
        if (!_hasReserveHeadroom(bankId, currency, amount)) {
            revert InsufficientReserves(bankId, currency, _positions[bankId][currency].reserves, amount);
        }
    }

    function _requireRegisteredBank(uint16 bankId) private view {
        if (registry.bankStatus(bankId) == BankStatus.None) revert IBankRegistry.UnknownBank(bankId);
    }

    function _requireEnabledCurrency(uint16 currency) private view {
        if (!registry.getCurrency(currency).enabled) revert IBankRegistry.CurrencyNotSupported(currency);
    }

    function _requireAmount(uint256 amount) private pure {
        if (amount == 0 || amount > type(uint96).max) revert InvalidAmount(amount);
    }
}
