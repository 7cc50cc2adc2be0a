// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";

import {BankStatus, IBankRegistry} from "../../contracts/interfaces/IBankRegistry.sol";
import {
    ISettlementLedger,
    Payment,
    Refund,
    RefundRequest,
    RejectReason
} from "../../contracts/interfaces/ISettlementLedger.sol";
import {SignedPayment} from "./utils/BatchEncoder.sol";
import {LedgerTest} from "./utils/LedgerTest.sol";
import {MerkleTree} from "./utils/MerkleTree.sol";
import {OwnedSmartAccount} from "./utils/MockWallets.sol";

contract RefundsTest is LedgerTest {
    uint256 internal constant PAID = 100_00;

    bytes32[] internal noProof;

    // ─────────────────────────────────────────── Refunds ──────────────────────────────────────────

    function testRefundFullCrossBankPaymentReversesEverything() public {
        uint256 supplyBefore = ledger.getSupply(CNY).deposits;
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        RefundRequest memory r = _refundRequest(p, root, noProof, PAID, 0, max.key);

        vm.expectEmit(address(ledger));
        emit ISettlementLedger.PaymentRefunded(
            ledger.hashPayment(p),
            alice.addr,
            max.addr,
            _refundId(r),
            PAID,
            bankA,
            bankB,
            CNY
        );
        vm.expectEmit(address(ledger));
        emit ISettlementLedger.InterbankSettled(bankB, bankA, CNY, PAID);
        assertEq(_submit(relayerB, r), 1);

        assertEq(_balance(alice), OPENING_BALANCE);
        assertEq(_balance(max), 0);
        assertEq(_reserves(bankA), int256(RESERVES));
        assertEq(_reserves(bankB), int256(RESERVES));
        assertEq(_deposits(bankA), 2 * OPENING_BALANCE);
        assertEq(_deposits(bankB), OPENING_BALANCE);
        assertEq(ledger.getSupply(CNY).deposits, supplyBefore);
        assertEq(ledger.refundedAmount(ledger.hashPayment(p)), PAID);
        assertTrue(ledger.isNonceUsed(max.addr, CNY, 0), "the refund uses the payee's nonce");
    }

    function testRefundPartiallyUpToThePayment() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        bytes32 paymentId = ledger.hashPayment(p);

        assertEq(_submit(relayerB, _refundRequest(p, root, noProof, 30_00, 0, max.key)), 1);
        assertEq(ledger.refundedAmount(paymentId), 30_00);
        assertEq(_balance(max), PAID - 30_00);
        assertEq(_reserves(bankB), int256(RESERVES + PAID - 30_00));

        assertEq(_submit(relayerB, _refundRequest(p, root, noProof, 70_00, 1, max.key)), 1);
        assertEq(ledger.refundedAmount(paymentId), PAID);
        assertEq(_balance(alice), OPENING_BALANCE);

        vm.prank(adminB);
        ledger.issueDeposits(max.addr, CNY, 1_00);
        _assertRefundRejectedUnchanged(
            relayerB,
            _refundRequest(p, root, noProof, 1, 2, max.key),
            RejectReason.RefundExceedsPayment
        );
    }

    function testRefundSameBankPaymentMovesNoReserves() public {
        (Payment memory p, bytes32 root) = _pay(alice, mia, bankA, 50_00, 0);

        vm.recordLogs();
        assertEq(_submit(relayerA, _refundRequest(p, root, noProof, 50_00, 0, mia.key)), 1);

        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            assertTrue(logs[i].topics[0] != ISettlementLedger.InterbankSettled.selector, "no reserve leg");
        }
        assertEq(_balance(alice), OPENING_BALANCE);
        assertEq(_balance(mia), 0);
        assertEq(_reserves(bankA), int256(RESERVES));
        assertEq(_deposits(bankA), 2 * OPENING_BALANCE);
    }

    function testRefundEveryPaymentOfAMultiItemBatchWithProofs() public {
        SignedPayment[] memory batch = new SignedPayment[](5);
        batch[0] = _signed(_payment(alice, max, bankB, 10_00, 0), alice.key);
        batch[1] = _signed(_payment(bob, max, bankB, 20_00, 0), bob.key);
        batch[2] = _signed(_payment(alice, max, bankB, 30_00, 1), alice.key);
        batch[3] = _signed(_payment(bob, max, bankB, 40_00, 1), bob.key);
        batch[4] = _signed(_payment(alice, max, bankB, 50_00, 2), alice.key);
        (uint256 settled, bytes32 root) = _settle(relayerA, batch);
        assertEq(settled, 5);

        bytes32[] memory leaves = new bytes32[](5);
        for (uint256 i; i < 5; ++i) leaves[i] = ledger.hashPayment(batch[i].payment);
        assertEq(MerkleTree.root(leaves), root, "the test tree matches the ledger's");

        RefundRequest[] memory refunds = new RefundRequest[](5);
        for (uint256 i; i < 5; ++i) {
            Payment memory p = batch[i].payment;
            refunds[i] = _refundRequest(p, root, MerkleTree.proof(leaves, i), p.amount, i, max.key);
            vm.expectEmit(address(ledger));
            emit ISettlementLedger.InterbankSettled(bankB, bankA, CNY, p.amount);
        }
        vm.prank(relayerB);
        assertEq(ledger.refundPayments(refunds), 5);

        assertEq(_balance(max), 0);
        assertEq(_balance(alice), OPENING_BALANCE);
        assertEq(_balance(bob), OPENING_BALANCE);
        assertEq(_reserves(bankA), int256(RESERVES));
        assertEq(_reserves(bankB), int256(RESERVES));
        for (uint256 i; i < 5; ++i) assertEq(ledger.refundedAmount(leaves[i]), batch[i].payment.amount);
    }

    function testRefundAcceptsCompactSignature() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        RefundRequest memory r = _unsigned(p, root, noProof, PAID, 0);
        (bytes32 sigR, bytes32 vs) = vm.signCompact(max.key, _refundId(r));
        r.signature = abi.encodePacked(sigR, vs);
        assertEq(r.signature.length, 64);

        assertEq(_submit(relayerB, r), 1);
        assertEq(_balance(alice), OPENING_BALANCE);
    }

    function testRefundAcceptsSmartAccountPayee() public {
        Person memory owner = _person("walletOwner");
        OwnedSmartAccount wallet = new OwnedSmartAccount(owner.addr);
        Person memory shop = Person(address(wallet), 0);
        vm.prank(adminB);
        ledger.openAccount(address(wallet), CNY);
        (Payment memory p, bytes32 root) = _pay(alice, shop, bankB, PAID, 0);

        RefundRequest memory forged = _refundRequest(p, root, noProof, PAID, 0, max.key);
        _assertRefundRejectedUnchanged(relayerB, forged, RejectReason.InvalidSignature);

        assertEq(_submit(relayerB, _refundRequest(p, root, noProof, PAID, 0, owner.key)), 1);
        assertEq(ledger.balanceOf(address(wallet), CNY), 0);
        assertEq(_balance(alice), OPENING_BALANCE);
    }

    function testRefundSettlesUpToItsDeadline() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        RefundRequest memory r = _refundRequest(p, root, noProof, PAID, 0, max.key);
        vm.warp(r.deadline);
        assertEq(_submit(relayerB, r), 1);
    }

    function testRejectedRefundDoesNotStopTheOthers() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        RefundRequest[] memory refunds = new RefundRequest[](2);
        refunds[0] = _refundRequest(p, root, noProof, PAID + 1, 0, max.key);
        refunds[1] = _refundRequest(p, root, noProof, 40_00, 1, max.key);

        vm.expectEmit(address(ledger));
        emit ISettlementLedger.RefundRejected(
            _refundId(refunds[0]),
            ledger.hashPayment(p),
            RejectReason.RefundExceedsPayment
        );
        vm.prank(relayerB);
        assertEq(ledger.refundPayments(refunds), 1);
        assertEq(ledger.refundedAmount(ledger.hashPayment(p)), 40_00);
        assertFalse(ledger.isNonceUsed(max.addr, CNY, 0), "the rejected refund leaves its nonce unused");
    }

    function testRefundOfNothingReturnsZero() public {
        vm.prank(relayerB);
        assertEq(ledger.refundPayments(new RefundRequest[](0)), 0);
    }

    // ─────────────────────────────────────────── Rejects ──────────────────────────────────────────

    function testRejectRefundSignedByAnotherKey() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        RefundRequest memory r = _refundRequest(p, root, noProof, PAID, 0, alice.key);
        _assertRefundRejectedUnchanged(relayerB, r, RejectReason.InvalidSignature);
    }

    function testRejectRefundWithAmountRaisedAfterSigning() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        RefundRequest memory r = _refundRequest(p, root, noProof, 10_00, 0, max.key);
        r.amount = PAID;
        _assertRefundRejectedUnchanged(relayerB, r, RejectReason.InvalidSignature);
    }

    function testRejectRefundWithMalformedSignature() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        RefundRequest memory r = _refundRequest(p, root, noProof, PAID, 0, max.key);
        r.signature = hex"0102030405";
        _assertRefundRejectedUnchanged(relayerB, r, RejectReason.InvalidSignature);
    }

    function testRejectExpiredRefund() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        RefundRequest memory r = _refundRequest(p, root, noProof, PAID, 0, max.key);
        vm.warp(r.deadline + 1);
        _assertRefundRejectedUnchanged(relayerB, r, RejectReason.Expired);
    }

    function testRejectRefundUnderUnknownRoot() public {
        (Payment memory p, ) = _pay(alice, max, bankB, PAID, 0);
        RefundRequest memory r = _refundRequest(p, keccak256("no such batch"), noProof, PAID, 0, max.key);
        _assertRefundRejectedUnchanged(relayerB, r, RejectReason.UnknownPayment);
    }

    function testRejectRefundWithBadProof() public {
        SignedPayment[] memory batch = new SignedPayment[](3);
        batch[0] = _signed(_payment(alice, max, bankB, 10_00, 0), alice.key);
        batch[1] = _signed(_payment(bob, max, bankB, 20_00, 0), bob.key);
        batch[2] = _signed(_payment(alice, max, bankB, 30_00, 1), alice.key);
        (, bytes32 root) = _settle(relayerA, batch);
        bytes32[] memory leaves = new bytes32[](3);
        for (uint256 i; i < 3; ++i) leaves[i] = ledger.hashPayment(batch[i].payment);

        // Another leaf's proof.
        RefundRequest memory r = _refundRequest(
            batch[1].payment,
            root,
            MerkleTree.proof(leaves, 0),
            1_00,
            0,
            max.key
        );
        _assertRefundRejectedUnchanged(relayerB, r, RejectReason.UnknownPayment);
        // A tampered sibling.
        bytes32[] memory proof = MerkleTree.proof(leaves, 1);
        proof[0] = bytes32(uint256(proof[0]) ^ 1);
        r = _refundRequest(batch[1].payment, root, proof, 1_00, 0, max.key);
        _assertRefundRejectedUnchanged(relayerB, r, RejectReason.UnknownPayment);
        // The right proof settles.
        r = _refundRequest(batch[1].payment, root, MerkleTree.proof(leaves, 1), 1_00, 0, max.key);
        assertEq(_submit(relayerB, r), 1);
    }

    function testRejectRefundOfPaymentFromAnotherBatch() public {
        (Payment memory first, bytes32 firstRoot) = _pay(alice, max, bankB, PAID, 0);
        (Payment memory second, ) = _pay(bob, max, bankB, PAID, 0);
        assertTrue(ledger.hashPayment(first) != ledger.hashPayment(second));
        RefundRequest memory r = _refundRequest(second, firstRoot, noProof, PAID, 0, max.key);
        _assertRefundRejectedUnchanged(relayerB, r, RejectReason.UnknownPayment);
    }

    function testRejectRefundOfPaymentThatWasRejected() public {
        Payment memory p = _payment(alice, max, bankB, OPENING_BALANCE + 1, 0);
        (uint256 settled, ) = _settle(relayerA, _one(_signed(p, alice.key)));
        assertEq(settled, 0);
        // A lone payment would be its own root, had it settled.
        RefundRequest memory r = _refundRequest(p, ledger.hashPayment(p), noProof, 1_00, 0, max.key);
        _assertRefundRejectedUnchanged(relayerB, r, RejectReason.UnknownPayment);
    }

    function testRejectRefundByRelayerOfAnotherBank() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        RefundRequest memory r = _refundRequest(p, root, noProof, PAID, 0, max.key);
        _assertRefundRejectedUnchanged(relayerC, r, RejectReason.NotRelayerBank);
        _assertRefundRejectedUnchanged(relayerA, r, RejectReason.NotRelayerBank);
    }

    function testRejectRefundInDisabledCurrency() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        vm.prank(operator);
        registry.setCurrencyEnabled(CNY, false);
        RefundRequest memory r = _refundRequest(p, root, noProof, PAID, 0, max.key);
        _assertRefundRejectedUnchanged(relayerB, r, RejectReason.CurrencyDisabled);
    }

    function testRejectRefundToSuspendedPayerBank() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        vm.prank(operator);
        registry.setBankStatus(bankA, BankStatus.Suspended);
        RefundRequest memory r = _refundRequest(p, root, noProof, PAID, 0, max.key);
        _assertRefundRejectedUnchanged(relayerB, r, RejectReason.ReceiverBankInactive);
    }

    function testRejectZeroRefund() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        RefundRequest memory r = _refundRequest(p, root, noProof, 0, 0, max.key);
        _assertRefundRejectedUnchanged(relayerB, r, RejectReason.InvalidAmount);
    }

    function testRejectRefundAbovePayment() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        vm.prank(adminB);
        ledger.issueDeposits(max.addr, CNY, 1_00);
        RefundRequest memory r = _refundRequest(p, root, noProof, PAID + 1, 0, max.key);
        _assertRefundRejectedUnchanged(relayerB, r, RejectReason.RefundExceedsPayment);
    }

    /// @dev A payee-signed refund whose amount overflows the running total must be skipped like any other
    /// excessive refund, not revert the relayer's whole call.
    function testRejectOverflowingRefundAfterPartialRefund() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        assertEq(_submit(relayerB, _refundRequest(p, root, noProof, 1, 0, max.key)), 1);
        RefundRequest memory r = _refundRequest(p, root, noProof, type(uint256).max, 1, max.key);
        _assertRefundRejectedUnchanged(relayerB, r, RejectReason.RefundExceedsPayment);
    }

    function testRejectRefundFromFrozenPayee() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        vm.prank(freezer);
        ledger.setFrozen(max.addr, CNY, true);
        RefundRequest memory r = _refundRequest(p, root, noProof, PAID, 0, max.key);
        _assertRefundRejectedUnchanged(relayerB, r, RejectReason.SenderFrozen);
    }

    function testRejectRefundToFrozenPayer() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        vm.prank(adminA);
        ledger.setFrozen(alice.addr, CNY, true);
        RefundRequest memory r = _refundRequest(p, root, noProof, PAID, 0, max.key);
        _assertRefundRejectedUnchanged(relayerB, r, RejectReason.ReceiverFrozen);
    }

    function testRejectRefundFromClosedPayeeAccount() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        vm.startPrank(adminB);
        ledger.redeemDeposits(max.addr, CNY, PAID);
        ledger.closeAccount(max.addr, CNY);
        vm.stopPrank();
        RefundRequest memory r = _refundRequest(p, root, noProof, PAID, 0, max.key);
        _assertRefundRejectedUnchanged(relayerB, r, RejectReason.SenderNotCustomer);
    }

    function testRejectRefundToClosedPayerAccount() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        vm.startPrank(adminA);
        ledger.redeemDeposits(alice.addr, CNY, OPENING_BALANCE - PAID);
        ledger.closeAccount(alice.addr, CNY);
        vm.stopPrank();
        RefundRequest memory r = _refundRequest(p, root, noProof, PAID, 0, max.key);
        _assertRefundRejectedUnchanged(relayerB, r, RejectReason.ReceiverNotCustomer);
    }

    function testRejectRefundToPayerNowAtAnotherBank() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        vm.startPrank(adminA);
        ledger.redeemDeposits(alice.addr, CNY, OPENING_BALANCE - PAID);
        ledger.closeAccount(alice.addr, CNY);
        vm.stopPrank();
        vm.prank(adminC);
        ledger.openAccount(alice.addr, CNY);
        RefundRequest memory r = _refundRequest(p, root, noProof, PAID, 0, max.key);
        _assertRefundRejectedUnchanged(relayerB, r, RejectReason.ReceiverNotCustomer);
    }

    function testRejectRefundWithCancelledNonce() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        vm.prank(max.addr);
        ledger.cancelNonce(CNY, 0);
        RefundRequest memory r = _refundRequest(p, root, noProof, PAID, 0, max.key);
        _assertRefundRejectedUnchanged(relayerB, r, RejectReason.NonceUsed);
    }

    function testRejectReplayedPartialRefund() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        RefundRequest memory r = _refundRequest(p, root, noProof, 10_00, 0, max.key);
        assertEq(_submit(relayerB, r), 1);
        _assertRefundRejectedUnchanged(relayerB, r, RejectReason.NonceUsed);
        assertEq(ledger.refundedAmount(ledger.hashPayment(p)), 10_00);
    }

    function testRejectRefundNonceBeyondWindow() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        RefundRequest memory r = _refundRequest(p, root, noProof, PAID, 64, max.key);
        _assertRefundRejectedUnchanged(relayerB, r, RejectReason.NonceOutOfWindow);
    }

    function testRejectRefundBeyondPayeeBalance() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        vm.prank(adminB);
        ledger.redeemDeposits(max.addr, CNY, 1);
        RefundRequest memory r = _refundRequest(p, root, noProof, PAID, 0, max.key);
        _assertRefundRejectedUnchanged(relayerB, r, RejectReason.InsufficientBalance);
    }

    function testRejectRefundBeyondPayeeBankReservesThenAllowWithinDebitCap() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        vm.prank(agent);
        ledger.redeemReserves(bankB, CNY, RESERVES + PAID - 50_00);
        RefundRequest memory r = _refundRequest(p, root, noProof, PAID, 0, max.key);
        _assertRefundRejectedUnchanged(relayerB, r, RejectReason.InsufficientReserves);

        vm.prank(operator);
        registry.setBankLimits(bankB, CNY, 50_00, 0);
        assertEq(_submit(relayerB, r), 1);
        assertEq(_reserves(bankB), -50_00);
        assertEq(_reserves(bankA), int256(RESERVES));
    }

    function testSameBankRefundNeedsNoReserves() public {
        (Payment memory p, bytes32 root) = _pay(alice, mia, bankA, 50_00, 0);
        vm.prank(agent);
        ledger.redeemReserves(bankA, CNY, RESERVES);
        assertEq(_submit(relayerA, _refundRequest(p, root, noProof, 50_00, 0, mia.key)), 1);
        assertEq(_balance(alice), OPENING_BALANCE);
    }

    // ──────────────────────────────────────── Caller errors ───────────────────────────────────────

    function testRefundRevertsWhenCallerIsNotARelayer() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        RefundRequest[] memory refunds = _oneRefund(_refundRequest(p, root, noProof, PAID, 0, max.key));
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.UnauthorizedRelayer.selector, adminB));
        vm.prank(adminB);
        ledger.refundPayments(refunds);
    }

    function testRefundRevertsWhenRelayerBankIsSuspended() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        vm.prank(operator);
        registry.setBankStatus(bankB, BankStatus.Suspended);
        RefundRequest[] memory refunds = _oneRefund(_refundRequest(p, root, noProof, PAID, 0, max.key));
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.BankNotActive.selector, bankB));
        vm.prank(relayerB);
        ledger.refundPayments(refunds);
    }

    function testRefundRevertsWhenPaused() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, PAID, 0);
        vm.prank(pauser);
        registry.pause();
        RefundRequest[] memory refunds = _oneRefund(_refundRequest(p, root, noProof, PAID, 0, max.key));
        vm.expectRevert(ISettlementLedger.NetworkPaused.selector);
        vm.prank(relayerB);
        ledger.refundPayments(refunds);
    }

    // ──────────────────────────────────────────── Fuzz ────────────────────────────────────────────

    /// @dev However a payee splits its refunds, their total never passes the payment, and every accepted one
    /// moves exactly its amount back.
    function testFuzzPartialRefundsNeverExceedPayment(uint256 paid, uint256[6] memory asks) public {
        paid = bound(paid, 1, OPENING_BALANCE);
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, paid, 0);
        bytes32 paymentId = ledger.hashPayment(p);
        // Give the payee enough to cover any ask, so only the payment's amount limits the refunds.
        vm.prank(adminB);
        ledger.issueDeposits(max.addr, CNY, paid);

        uint256 refunded;
        for (uint256 i; i < asks.length; ++i) {
            uint256 ask = bound(asks[i], 1, paid);
            RefundRequest memory r = _refundRequest(p, root, noProof, ask, i, max.key);
            bool fits = refunded + ask <= paid;
            if (!fits) {
                vm.expectEmit(address(ledger));
                emit ISettlementLedger.RefundRejected(
                    _refundId(r),
                    paymentId,
                    RejectReason.RefundExceedsPayment
                );
            }
            assertEq(_submit(relayerB, r), fits ? 1 : 0);
            if (fits) refunded += ask;

            assertEq(ledger.refundedAmount(paymentId), refunded);
            assertLe(refunded, paid);
            assertEq(_balance(alice), OPENING_BALANCE - paid + refunded);
            assertEq(_balance(max), 2 * paid - refunded);
            assertEq(_reserves(bankB), int256(RESERVES + paid - refunded));
        }
    }

    // ─────────────────────────────────────────── Helpers ──────────────────────────────────────────

    function _unsigned(
        Payment memory p,
        bytes32 root,
        bytes32[] memory proof,
        uint256 amount,
        uint256 nonce
    ) private view returns (RefundRequest memory) {
        return RefundRequest(p, root, proof, amount, nonce, block.timestamp + 1 hours, "");
    }

    function _refundId(RefundRequest memory r) private view returns (bytes32) {
        return ledger.hashRefund(Refund(ledger.hashPayment(r.payment), r.amount, r.nonce, r.deadline));
    }

    function _submit(address relayer, RefundRequest memory r) private returns (uint256) {
        vm.prank(relayer);
        return ledger.refundPayments(_oneRefund(r));
    }

    /// @dev Submits `r` alone and checks it was rejected for `reason` with no balance, position, supply,
    /// refund total or nonce changed.
    function _assertRefundRejectedUnchanged(
        address relayer,
        RefundRequest memory r,
        RejectReason reason
    ) private {
        Payment memory p = r.payment;
        bytes32 paymentId = ledger.hashPayment(p);
        uint256 payerBefore = ledger.balanceOf(p.payer, CNY);
        uint256 payeeBefore = ledger.balanceOf(p.payee, CNY);
        bytes32 positionsBefore = _positionsDigest();
        uint256 refundedBefore = ledger.refundedAmount(paymentId);
        bool nonceUsedBefore = ledger.isNonceUsed(p.payee, CNY, r.nonce);
        uint256 supplyBefore = ledger.getSupply(CNY).deposits;

        vm.expectEmit(address(ledger));
        emit ISettlementLedger.RefundRejected(_refundId(r), paymentId, reason);
        assertEq(_submit(relayer, r), 0);

        assertEq(ledger.balanceOf(p.payer, CNY), payerBefore, "payer balance changed");
        assertEq(ledger.balanceOf(p.payee, CNY), payeeBefore, "payee balance changed");
        assertEq(_positionsDigest(), positionsBefore, "a bank position changed");
        assertEq(ledger.refundedAmount(paymentId), refundedBefore, "refund total changed");
        assertEq(ledger.isNonceUsed(p.payee, CNY, r.nonce), nonceUsedBefore, "nonce changed");
        assertEq(ledger.getSupply(CNY).deposits, supplyBefore, "supply changed");
    }

    function _positionsDigest() private view returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    _reserves(bankA),
                    _reserves(bankB),
                    _reserves(bankC),
                    _deposits(bankA),
                    _deposits(bankB),
                    _deposits(bankC)
                )
            );
    }
}
