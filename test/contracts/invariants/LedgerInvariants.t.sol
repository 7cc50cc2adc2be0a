// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";

import {
    ISettlementLedger,
    Payment,
    Refund,
    RefundRequest,
    Supply
} from "../../../contracts/interfaces/ISettlementLedger.sol";
import {SignedPayment} from "../utils/BatchEncoder.sol";
import {Customer, InvariantHandler, Limits, Network} from "../utils/InvariantHandler.sol";
import {LedgerTest} from "../utils/LedgerTest.sol";
import {MerkleTree} from "../utils/MerkleTree.sol";

/// @notice Drives the ledger through random sequences of payments (valid and broken), refunds, issuance,
/// redemption, forced transfers, freezes, nonce cancellations and time, keeping ghost books the invariants
/// compare with the ledger. Every balance change of a settle, refund or forced transfer must be explained by
/// the events it emitted; anything else is counted in `unexplainedChanges`.
contract LedgerHandler is InvariantHandler {
    /// @dev What the handler remembers of each settled payment, to replay and refund it.
    struct Settled {
        Payment payment;
        bytes signature;
        uint256 batch;
        uint256 index;
    }

    uint256 private constant MAX_BATCH = 5;
    bytes32 private constant CASE = keccak256("invariant case");

    address private enforcer;
    address private freezer;

    mapping(bytes32 paymentId => uint256) public refundedByEvents;
    mapping(bytes32 paymentId => Settled) private settledPayments;
    bytes32[][] private batchLeaves;

    uint256 public rootMismatches;

    constructor(
        Network memory network,
        Customer[] memory customers_,
        address enforcer_,
        address freezer_
    )
        InvariantHandler(
            network,
            customers_,
            Limits({maxIssue: 1e12, maxPayment: type(uint256).max, maxWarp: 3 hours})
        )
    {
        enforcer = enforcer_;
        freezer = freezer_;
    }

    // ─────────────────────────────────────────── Actions ────────────────────────────────────────

    /// @notice Settles a batch of up to five payments by customers of one bank: mostly valid, some signed by
    /// the wrong key, expired, beyond the payer's balance, or replays of payments that already settled.
    function settleBatch(uint256 seed, uint256 size) external {
        Batch memory b = _makeBatch(seed, bound(size, 1, MAX_BATCH));

        Snapshot memory before = _snapshot(b.currency);
        vm.recordLogs();
        vm.prank(relayers[b.bank - 1]);
        (, bytes32 root) = ledger.settlePayments(b.currency, b.payees, b.items);
        Vm.Log[] memory logs = vm.getRecordedLogs();

        Expected memory expected = _emptyExpected();
        bytes32[] memory leaves = _applySettled(logs, expected, b.payments, b.ids);
        _checkExplained(before, _snapshot(b.currency), expected);
        _checkRejectedNoncesUntouched(b, leaves);
        if (leaves.length != 0 && MerkleTree.root(leaves) != root) ++rootMismatches;
        if (leaves.length != 0 && ledger.batchRootBank(root) != b.bank) ++rootMismatches;
    }

    /// @notice Refunds part or all of a settled payment, sometimes more than is left or with a broken proof.
    function refund(uint256 seed, uint256 amount) external {
        if (settledIds.length == 0) return;
        bytes32 paymentId = settledIds[seed % settledIds.length];
        Settled storage s = settledPayments[paymentId];
        Payment memory p = s.payment;
        RefundRequest memory request = _refundRequest(seed, amount, paymentId, s);

        Snapshot memory before = _snapshot(p.currency);
        vm.recordLogs();
        RefundRequest[] memory requests = new RefundRequest[](1);
        requests[0] = request;
        vm.prank(relayers[p.payeeBank - 1]);
        ledger.refundPayments(requests);
        Vm.Log[] memory logs = vm.getRecordedLogs();

        Expected memory expected = _emptyExpected();
        _applyRefunded(logs, expected);
        _checkExplained(before, _snapshot(p.currency), expected);
    }

    function forceTransfer(uint256 fromSeed, uint256 toSeed, uint256 currencySeed, uint256 amount) external {
        Customer memory from = _customer(fromSeed);
        Customer memory to = _customer(toSeed);
        uint16 currency = _currency(currencySeed);
        uint256 balance = ledger.balanceOf(from.addr, currency);
        if (balance == 0 || ledger.getAccount(to.addr, currency).bankId == 0) return;
        amount = bound(amount, 1, balance);

        Snapshot memory before = _snapshot(currency);
        vm.recordLogs();
        vm.prank(enforcer);
        ledger.forceTransfer(from.addr, to.addr, currency, amount, CASE);
        Vm.Log[] memory logs = vm.getRecordedLogs();

        Expected memory expected = _emptyExpected();
        _applyForced(logs, expected);
        _checkExplained(before, _snapshot(currency), expected);
    }

    function setFrozen(uint256 customerSeed, uint256 currencySeed, bool frozen) external {
        Customer memory c = _customer(customerSeed);
        vm.prank(freezer);
        ledger.setFrozen(c.addr, _currency(currencySeed), frozen);
    }

    function cancelNonce(uint256 customerSeed, uint256 currencySeed, uint256 offset) external {
        Customer memory c = _customer(customerSeed);
        uint16 currency = _currency(currencySeed);
        uint256 nonce = ledger.getAccount(c.addr, currency).nonceBase + (offset % 16);
        if (ledger.isNonceUsed(c.addr, currency, nonce)) return;
        vm.prank(c.addr);
        ledger.cancelNonce(currency, nonce);
    }

    function invalidateNonces(uint256 customerSeed, uint256 currencySeed, uint256 delta) external {
        Customer memory c = _customer(customerSeed);
        uint16 currency = _currency(currencySeed);
        vm.prank(c.addr);
        ledger.invalidateNonces(currency, ledger.getAccount(c.addr, currency).nonceBase + (delta % 8));
    }

    // ─────────────────────────────────────────── Views ──────────────────────────────────────────

    function paymentAmount(bytes32 paymentId) external view returns (uint256) {
        return settledPayments[paymentId].payment.amount;
    }

    // ──────────────────────────────────────── Building items ────────────────────────────────────

    /// @dev Replays are looked up among every payment that settled, by its id.
    function _findReplay(
        uint256 start,
        uint16 bank,
        uint16 currency
    ) internal view override returns (bool, SignedPayment memory replay) {
        uint256 count = settledIds.length;
        for (uint256 i; i < count; ++i) {
            Settled storage s = settledPayments[settledIds[(start + i) % count]];
            if (s.payment.currency != currency) continue;
            if (customers[customerSlot[s.payment.payer] - 1].bank != bank) continue;
            return (true, SignedPayment({payment: s.payment, kind: 0, signature: s.signature}));
        }
        return (false, replay);
    }

    function _refundRequest(
        uint256 seed,
        uint256 amount,
        bytes32 paymentId,
        Settled storage s
    ) private view returns (RefundRequest memory request) {
        Payment memory p = s.payment;
        uint256 mode = (seed >> 8) % 8;
        uint256 remaining = p.amount - ledger.refundedAmount(paymentId);
        request.payment = p;
        request.batchRoot = MerkleTree.root(batchLeaves[s.batch]);
        request.proof = MerkleTree.proof(batchLeaves[s.batch], s.index);
        if (mode == 6 && request.proof.length != 0) request.proof[0] = bytes32(uint256(request.proof[0]) ^ 1);
        request.amount = mode == 7 ? remaining + 1 + (amount % 1_000) : bound(amount, 1, remaining + 1);
        request.nonce = ledger.getAccount(p.payee, p.currency).nonceBase + ((seed >> 16) % 4);
        request.deadline = block.timestamp + 1 hours;
        bytes32 refundId = ledger.hashRefund(
            Refund(paymentId, request.amount, request.nonce, request.deadline)
        );
        request.signature = _sign(customers[customerSlot[p.payee] - 1].key, refundId);
    }

    // ───────────────────────────────────────── Reading events ───────────────────────────────────

    /// @dev Books every `PaymentSettled` of the batch; returns the settled ids in order (the batch's leaves).
    function _applySettled(
        Vm.Log[] memory logs,
        Expected memory expected,
        SignedPayment[] memory batch,
        bytes32[] memory ids
    ) private returns (bytes32[] memory leaves) {
        leaves = new bytes32[](batch.length);
        uint256 count;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(ledger)) continue;
            bytes32 topic = logs[i].topics[0];
            if (topic == ISettlementLedger.PaymentSettled.selector) {
                (bytes32 paymentId, , uint256 terms) = abi.decode(logs[i].data, (bytes32, bytes32, uint256));
                uint256 amount = uint96(terms);
                _move(expected, _topicAddress(logs[i], 1), _topicAddress(logs[i], 2), amount);
                _recordSettled(paymentId, batch, ids, count);
                leaves[count] = paymentId;
                ++count;
            } else if (topic == ISettlementLedger.InterbankSettled.selector) {
                _moveInterbank(expected, logs[i]);
            }
        }
        assembly ("memory-safe") {
            mstore(leaves, count)
        }
        if (count != 0) batchLeaves.push(leaves);
    }

    function _recordSettled(
        bytes32 paymentId,
        SignedPayment[] memory batch,
        bytes32[] memory ids,
        uint256 index
    ) private {
        if (!_countSettled(paymentId)) return;
        for (uint256 j; j < ids.length; ++j) {
            if (ids[j] != paymentId) continue;
            Settled storage s = settledPayments[paymentId];
            s.payment = batch[j].payment;
            s.signature = batch[j].signature;
            s.batch = batchLeaves.length;
            s.index = index;
            return;
        }
    }

    function _applyRefunded(Vm.Log[] memory logs, Expected memory expected) private {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(ledger)) continue;
            bytes32 topic = logs[i].topics[0];
            if (topic == ISettlementLedger.PaymentRefunded.selector) {
                (, uint256 amount, , , ) = abi.decode(
                    logs[i].data,
                    (bytes32, uint256, uint16, uint16, uint16)
                );
                _move(expected, _topicAddress(logs[i], 3), _topicAddress(logs[i], 2), amount);
                refundedByEvents[logs[i].topics[1]] += amount;
            } else if (topic == ISettlementLedger.InterbankSettled.selector) {
                _moveInterbank(expected, logs[i]);
            }
        }
    }

    function _applyForced(Vm.Log[] memory logs, Expected memory expected) private view {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(ledger)) continue;
            bytes32 topic = logs[i].topics[0];
            if (topic == ISettlementLedger.ForcedTransfer.selector) {
                (, , uint256 amount, ) = abi.decode(logs[i].data, (uint16, uint16, uint256, bytes32));
                _move(expected, _topicAddress(logs[i], 1), _topicAddress(logs[i], 2), amount);
            } else if (topic == ISettlementLedger.InterbankSettled.selector) {
                _moveInterbank(expected, logs[i]);
            }
        }
    }

    function _move(Expected memory expected, address from, address to, uint256 amount) private view {
        expected.balances[customerSlot[from] - 1] -= int256(amount);
        expected.balances[customerSlot[to] - 1] += int256(amount);
    }

    function _moveInterbank(Expected memory expected, Vm.Log memory log) private pure {
        uint256 fromBank = uint256(log.topics[1]);
        uint256 toBank = uint256(log.topics[2]);
        int256 amount = int256(abi.decode(log.data, (uint256)));
        expected.reserves[fromBank - 1] -= amount;
        expected.reserves[toBank - 1] += amount;
        expected.deposits[fromBank - 1] -= amount;
        expected.deposits[toBank - 1] += amount;
    }

    function _topicAddress(Vm.Log memory log, uint256 i) private pure returns (address) {
        return address(uint160(uint256(log.topics[i])));
    }

    // ─────────────────────────────────────────── Checks ─────────────────────────────────────────

    /// @dev Balances of every customer and positions of every bank in `currency`.
    function _snapshot(uint16 currency) private view returns (Snapshot memory s) {
        s.balances = new uint256[](customers.length);
        for (uint256 i; i < customers.length; ++i)
            s.balances[i] = ledger.balanceOf(customers[i].addr, currency);
        s.reserves = new int256[](relayers.length);
        s.deposits = new uint256[](relayers.length);
        for (uint256 b; b < relayers.length; ++b) {
            (s.reserves[b], s.deposits[b]) = ledger.getPosition(uint16(b + 1), currency);
        }
    }

    function _emptyExpected() private view returns (Expected memory e) {
        e.balances = new int256[](customers.length);
        e.reserves = new int256[](relayers.length);
        e.deposits = new int256[](relayers.length);
    }
}

/// @notice Value conservation and replay safety under random sequences of every ledger operation.
contract LedgerInvariantsTest is LedgerTest {
    LedgerHandler internal handler;

    function setUp() public override {
        super.setUp();

        Customer[] memory customers = new Customer[](6);
        customers[0] = Customer(alice.addr, bankA, alice.key);
        customers[1] = Customer(bob.addr, bankA, bob.key);
        customers[2] = Customer(mia.addr, bankA, mia.key);
        customers[3] = Customer(carol.addr, bankB, carol.key);
        customers[4] = Customer(max.addr, bankB, max.key);
        customers[5] = Customer(noor.addr, bankC, noor.key);
        address[] memory admins = new address[](3);
        (admins[0], admins[1], admins[2]) = (adminA, adminB, adminC);
        address[] memory relayers = new address[](3);
        (relayers[0], relayers[1], relayers[2]) = (relayerA, relayerB, relayerC);
        uint16[] memory currencies = new uint16[](2);
        (currencies[0], currencies[1]) = (CNY, HKD);

        handler = new LedgerHandler(
            Network({
                ledger: ledger,
                agent: agent,
                admins: admins,
                relayers: relayers,
                currencies: currencies
            }),
            customers,
            enforcer,
            freezer
        );

        bytes4[] memory selectors = new bytes4[](11);
        selectors[0] = LedgerHandler.settleBatch.selector;
        selectors[1] = LedgerHandler.refund.selector;
        selectors[2] = InvariantHandler.issueReserves.selector;
        selectors[3] = InvariantHandler.redeemReserves.selector;
        selectors[4] = InvariantHandler.issueDeposits.selector;
        selectors[5] = InvariantHandler.redeemDeposits.selector;
        selectors[6] = LedgerHandler.forceTransfer.selector;
        selectors[7] = LedgerHandler.setFrozen.selector;
        selectors[8] = LedgerHandler.cancelNonce.selector;
        selectors[9] = LedgerHandler.invalidateNonces.selector;
        selectors[10] = InvariantHandler.warp.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @dev Per currency: the banks' reserves add up to what the agent issued minus what it redeemed,
    /// which is the recorded supply.
    function invariantReservesConserved() public view {
        uint16[] memory currencies = handler.currencies();
        for (uint256 c; c < currencies.length; ++c) {
            uint16 currency = currencies[c];
            int256 sum;
            for (uint16 bank = 1; bank <= handler.bankCount(); ++bank) {
                (int256 reserves, ) = ledger.getPosition(bank, currency);
                sum += reserves;
            }
            uint256 net = handler.reservesIssued(currency) - handler.reservesRedeemed(currency);
            assertEq(sum, int256(net), "bank reserves != issued - redeemed");
            assertEq(ledger.getSupply(currency).reserves, net, "supply != issued - redeemed");
        }
    }

    /// @dev Per bank and currency, its customers' balances add up to its deposit position; over all banks
    /// they add up to the recorded supply, which is what the banks issued minus what they redeemed.
    function invariantDepositsConserved() public view {
        uint16[] memory currencies = handler.currencies();
        for (uint256 c; c < currencies.length; ++c) {
            uint16 currency = currencies[c];
            uint256 total;
            for (uint16 bank = 1; bank <= handler.bankCount(); ++bank) {
                uint256 customersHold;
                for (uint256 i; i < handler.customerCount(); ++i) {
                    Customer memory customer = handler.customerAt(i);
                    if (customer.bank == bank) customersHold += ledger.balanceOf(customer.addr, currency);
                }
                (, uint256 deposits) = ledger.getPosition(bank, currency);
                assertEq(customersHold, deposits, "customer balances != bank deposit position");
                total += deposits;
            }
            Supply memory supply = ledger.getSupply(currency);
            assertEq(total, supply.deposits, "bank deposits != supply");
            assertEq(supply.deposits, handler.depositsIssued(currency) - handler.depositsRedeemed(currency));
        }
    }

    /// @dev Replay safety: however often a signed payment is resubmitted, it settles once.
    function invariantNoPaymentSettlesTwice() public view {
        uint256 count = handler.settledCount();
        for (uint256 i; i < count; ++i) {
            assertEq(handler.settleCount(handler.settledIds(i)), 1, "payment settled more than once");
        }
    }

    /// @dev Every balance and position change of a settle, refund or forced transfer is one its events
    /// report: rejected items move nothing and leave their nonces unused.
    function invariantRejectedItemsChangeNothing() public view {
        assertEq(handler.unexplainedChanges(), 0);
    }

    /// @dev The ledger's batch roots commit to the settled ids, in order, as the relayer rebuilds them.
    function invariantBatchRootsMatchSettledIds() public view {
        assertEq(handler.rootMismatches(), 0);
    }

    /// @dev Refunds against a payment never total more than the payment, and the ledger's count agrees
    /// with the `PaymentRefunded` events.
    function invariantRefundsNeverExceedPayment() public view {
        uint256 count = handler.settledCount();
        for (uint256 i; i < count; ++i) {
            bytes32 paymentId = handler.settledIds(i);
            uint256 refunded = ledger.refundedAmount(paymentId);
            assertLe(refunded, handler.paymentAmount(paymentId), "refunds exceed the payment");
            assertEq(refunded, handler.refundedByEvents(paymentId), "refund total != events");
        }
    }
}
