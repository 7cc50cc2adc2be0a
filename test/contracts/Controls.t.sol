// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";

import {
    ISettlementLedger,
    Payment,
    RefundRequest,
    RejectReason
} from "../../contracts/interfaces/ISettlementLedger.sol";
import {AccountLib} from "../../contracts/libraries/AccountLib.sol";
import {BatchEncoder} from "./utils/BatchEncoder.sol";
import {LedgerTest} from "./utils/LedgerTest.sol";

contract ControlsTest is LedgerTest {
    bytes32 internal constant CASE = keccak256("court order 2027/042");

    address internal stranger = makeAddr("stranger");

    // ─────────────────────────────────────────── Freeze ─────────────────────────────────────────

    function testFreezeByTheAccountsBankAdmin() public {
        vm.expectEmit(address(ledger));
        emit ISettlementLedger.AccountFrozen(alice.addr, CNY, true, adminA);
        vm.prank(adminA);
        ledger.setFrozen(alice.addr, CNY, true);
        assertTrue(ledger.getAccount(alice.addr, CNY).frozen);
        assertEq(_balance(alice), OPENING_BALANCE, "freezing keeps the balance");

        vm.expectEmit(address(ledger));
        emit ISettlementLedger.AccountFrozen(alice.addr, CNY, false, adminA);
        vm.prank(adminA);
        ledger.setFrozen(alice.addr, CNY, false);
        assertFalse(ledger.getAccount(alice.addr, CNY).frozen);
    }

    function testFreezeByFreezerAtAnyBank() public {
        vm.expectEmit(address(ledger));
        emit ISettlementLedger.AccountFrozen(carol.addr, CNY, true, freezer);
        vm.prank(freezer);
        ledger.setFrozen(carol.addr, CNY, true);
        assertTrue(ledger.getAccount(carol.addr, CNY).frozen);

        vm.prank(freezer);
        ledger.setFrozen(stranger, CNY, true);
        assertTrue(ledger.getAccount(stranger, CNY).frozen, "a freezer may freeze an unopened account");
    }

    function testFreezeIsPerCurrency() public {
        vm.prank(adminB);
        ledger.setFrozen(max.addr, CNY, true);
        assertTrue(ledger.getAccount(max.addr, CNY).frozen);
        assertFalse(ledger.getAccount(max.addr, HKD).frozen);
    }

    function testFreezeRevertsForAdminOfAnotherBank() public {
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementLedger.NotAccountController.selector, adminB, alice.addr, CNY)
        );
        vm.prank(adminB);
        ledger.setFrozen(alice.addr, CNY, true);
    }

    function testFreezeRevertsForAdminOnUnopenedAccount() public {
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementLedger.NotAccountController.selector, adminA, stranger, CNY)
        );
        vm.prank(adminA);
        ledger.setFrozen(stranger, CNY, true);
    }

    function testFreezeRevertsForOtherRoles() public {
        address[6] memory callers = [operator, agent, enforcer, pauser, relayerA, alice.addr];
        for (uint256 i; i < callers.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    ISettlementLedger.NotAccountController.selector,
                    callers[i],
                    alice.addr,
                    CNY
                )
            );
            vm.prank(callers[i]);
            ledger.setFrozen(alice.addr, CNY, true);
        }
        assertFalse(ledger.getAccount(alice.addr, CNY).frozen);
    }

    function testFrozenAccountCannotPay() public {
        _freeze(alice.addr);
        Payment memory p = _payment(alice, max, bankB, 1_00, 0);
        _expectRejected(p, RejectReason.SenderFrozen);
        (uint256 settled, ) = _settle(relayerA, _one(_signed(p, alice.key)));
        assertEq(settled, 0);
        assertEq(_balance(alice), OPENING_BALANCE);
    }

    function testFrozenAccountCannotReceive() public {
        _freeze(max.addr);
        Payment memory p = _payment(alice, max, bankB, 1_00, 0);
        _expectRejected(p, RejectReason.ReceiverFrozen);
        (uint256 settled, ) = _settle(relayerA, _one(_signed(p, alice.key)));
        assertEq(settled, 0);
        assertEq(_balance(max), 0);
    }

    function testFrozenAccountCannotBeIssuedOrRedeemed() public {
        _freeze(alice.addr);
        bytes memory frozen = abi.encodeWithSelector(
            ISettlementLedger.AccountIsFrozen.selector,
            alice.addr,
            CNY
        );
        vm.startPrank(adminA);
        vm.expectRevert(frozen);
        ledger.issueDeposits(alice.addr, CNY, 1_00);
        vm.expectRevert(frozen);
        ledger.redeemDeposits(alice.addr, CNY, 1_00);
        vm.stopPrank();
        assertEq(_balance(alice), OPENING_BALANCE);
    }

    function testUnfrozenAccountPaysAgain() public {
        _freeze(alice.addr);
        vm.prank(freezer);
        ledger.setFrozen(alice.addr, CNY, false);
        _pay(alice, max, bankB, 1_00, 0);
        assertEq(_balance(max), 1_00);
    }

    function testFreezeWorksWhilePaused() public {
        vm.prank(pauser);
        registry.pause();
        _freeze(alice.addr);
        assertTrue(ledger.getAccount(alice.addr, CNY).frozen);
    }

    // ─────────────────────────────────────── Forced transfer ────────────────────────────────────

    function testForceTransferWithinABankMovesNoReserves() public {
        vm.expectEmit(address(ledger));
        emit ISettlementLedger.ForcedTransfer(alice.addr, mia.addr, CNY, bankA, bankA, 30_00, CASE);
        vm.recordLogs();
        vm.prank(enforcer);
        ledger.forceTransfer(alice.addr, mia.addr, CNY, 30_00, CASE);

        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1, "no InterbankSettled");
        assertEq(_balance(alice), OPENING_BALANCE - 30_00);
        assertEq(_balance(mia), 30_00);
        assertEq(_reserves(bankA), int256(RESERVES));
        assertEq(_deposits(bankA), 2 * OPENING_BALANCE);
    }

    function testForceTransferAcrossBanksMovesReserves() public {
        uint256 supplyBefore = ledger.getSupply(CNY).deposits;

        vm.expectEmit(address(ledger));
        emit ISettlementLedger.ForcedTransfer(alice.addr, max.addr, CNY, bankA, bankB, 30_00, CASE);
        vm.expectEmit(address(ledger));
        emit ISettlementLedger.InterbankSettled(bankA, bankB, CNY, 30_00);
        vm.prank(enforcer);
        ledger.forceTransfer(alice.addr, max.addr, CNY, 30_00, CASE);

        assertEq(_balance(alice), OPENING_BALANCE - 30_00);
        assertEq(_balance(max), 30_00);
        assertEq(_reserves(bankA), int256(RESERVES - 30_00));
        assertEq(_reserves(bankB), int256(RESERVES + 30_00));
        assertEq(_deposits(bankA), 2 * OPENING_BALANCE - 30_00);
        assertEq(_deposits(bankB), OPENING_BALANCE + 30_00);
        assertEq(ledger.getSupply(CNY).deposits, supplyBefore);
    }

    function testForceTransferWorksOnFrozenAccounts() public {
        _freeze(alice.addr);
        _freeze(max.addr);
        vm.prank(enforcer);
        ledger.forceTransfer(alice.addr, max.addr, CNY, 10_00, CASE);
        assertEq(_balance(alice), OPENING_BALANCE - 10_00);
        assertEq(_balance(max), 10_00);
        assertTrue(ledger.getAccount(alice.addr, CNY).frozen, "the accounts stay frozen");
        assertTrue(ledger.getAccount(max.addr, CNY).frozen);
    }

    function testForceTransferWorksWhilePaused() public {
        vm.prank(pauser);
        registry.pause();
        vm.prank(enforcer);
        ledger.forceTransfer(alice.addr, max.addr, CNY, 10_00, CASE);
        assertEq(_balance(max), 10_00);
        assertEq(_reserves(bankB), int256(RESERVES + 10_00));
    }

    function testForceTransferRevertsForNonEnforcer() public {
        bytes32 role = registry.ENFORCER_ROLE();
        address[5] memory callers = [freezer, operator, agent, adminA, governor];
        for (uint256 i; i < callers.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.MissingRole.selector, callers[i], role));
            vm.prank(callers[i]);
            ledger.forceTransfer(alice.addr, max.addr, CNY, 1_00, CASE);
        }
        assertEq(_balance(alice), OPENING_BALANCE);
    }

    function testForceTransferRevertsBeyondDeposits() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                ISettlementLedger.InsufficientDeposits.selector,
                alice.addr,
                CNY,
                OPENING_BALANCE,
                OPENING_BALANCE + 1
            )
        );
        vm.prank(enforcer);
        ledger.forceTransfer(alice.addr, max.addr, CNY, OPENING_BALANCE + 1, CASE);
    }

    function testForceTransferRevertsFromUnopenedAccount() public {
        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.AccountNotOpen.selector, stranger, CNY));
        vm.prank(enforcer);
        ledger.forceTransfer(stranger, max.addr, CNY, 1_00, CASE);
    }

    function testForceTransferRevertsToUnopenedAccount() public {
        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.AccountNotOpen.selector, stranger, CNY));
        vm.prank(enforcer);
        ledger.forceTransfer(alice.addr, stranger, CNY, 1_00, CASE);
    }

    function testForceTransferRevertsOnInvalidAmount() public {
        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.InvalidAmount.selector, 0));
        vm.prank(enforcer);
        ledger.forceTransfer(alice.addr, max.addr, CNY, 0, CASE);

        uint256 tooLarge = uint256(type(uint96).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.InvalidAmount.selector, tooLarge));
        vm.prank(enforcer);
        ledger.forceTransfer(alice.addr, max.addr, CNY, tooLarge, CASE);
    }

    function testForceTransferDrawsOnDebitCapButNotBeyond() public {
        vm.prank(agent);
        ledger.redeemReserves(bankA, CNY, RESERVES);
        vm.prank(operator);
        registry.setBankLimits(bankA, CNY, 50_00, 0);

        vm.prank(enforcer);
        ledger.forceTransfer(alice.addr, max.addr, CNY, 50_00, CASE);
        assertEq(_reserves(bankA), -50_00);

        vm.expectRevert(
            abi.encodeWithSelector(
                ISettlementLedger.InsufficientReserves.selector,
                bankA,
                CNY,
                int256(-50_00),
                1
            )
        );
        vm.prank(enforcer);
        ledger.forceTransfer(alice.addr, max.addr, CNY, 1, CASE);

        vm.prank(enforcer);
        ledger.forceTransfer(alice.addr, mia.addr, CNY, 1_00, CASE);
        assertEq(_balance(mia), 1_00, "a move within the bank needs no reserves");
    }

    function testFuzzForceTransferConservesTotals(uint256 amount, bool crossBank) public {
        amount = bound(amount, 1, OPENING_BALANCE);
        address to = crossBank ? noor.addr : bob.addr;
        uint256 supplyBefore = ledger.getSupply(CNY).deposits;
        int256 reservesBefore = _reserves(bankA) + _reserves(bankC);
        uint256 depositsBefore = _deposits(bankA) + _deposits(bankC);

        vm.prank(enforcer);
        ledger.forceTransfer(alice.addr, to, CNY, amount, CASE);

        assertEq(_balance(alice), OPENING_BALANCE - amount);
        assertEq(ledger.getSupply(CNY).deposits, supplyBefore);
        assertEq(_reserves(bankA) + _reserves(bankC), reservesBefore);
        assertEq(_deposits(bankA) + _deposits(bankC), depositsBefore);
        assertEq(_deposits(bankA), _balance(alice) + _balance(bob) + _balance(mia));
        assertEq(_reserves(bankA), crossBank ? int256(RESERVES - amount) : int256(RESERVES));
    }

    // ─────────────────────────────────────────── Pause ──────────────────────────────────────────

    function testPauseStopsSettlement() public {
        (bytes memory payees, bytes memory items) = BatchEncoder.encode(
            _one(_signed(_payment(alice, max, bankB, 1_00, 0), alice.key))
        );
        _pause();
        vm.expectRevert(ISettlementLedger.NetworkPaused.selector);
        vm.prank(relayerA);
        ledger.settlePayments(CNY, payees, items);

        vm.prank(pauser);
        registry.unpause();
        vm.prank(relayerA);
        (uint256 settled, ) = ledger.settlePayments(CNY, payees, items);
        assertEq(settled, 1, "settles once unpaused");
    }

    function testPauseStopsRefunds() public {
        (Payment memory p, bytes32 root) = _pay(alice, max, bankB, 10_00, 0);
        RefundRequest[] memory refunds = _oneRefund(
            _refundRequest(p, root, new bytes32[](0), 10_00, 0, max.key)
        );
        _pause();
        vm.expectRevert(ISettlementLedger.NetworkPaused.selector);
        vm.prank(relayerB);
        ledger.refundPayments(refunds);
        assertEq(_balance(max), 10_00);
    }

    function testPauseStopsIssuance() public {
        _pause();
        vm.expectRevert(ISettlementLedger.NetworkPaused.selector);
        vm.prank(agent);
        ledger.issueReserves(bankA, CNY, 1_00);
        vm.expectRevert(ISettlementLedger.NetworkPaused.selector);
        vm.prank(adminA);
        ledger.issueDeposits(alice.addr, CNY, 1_00);
    }

    function testPauseStopsRedemption() public {
        _pause();
        vm.expectRevert(ISettlementLedger.NetworkPaused.selector);
        vm.prank(agent);
        ledger.redeemReserves(bankA, CNY, 1_00);
        vm.expectRevert(ISettlementLedger.NetworkPaused.selector);
        vm.prank(adminA);
        ledger.redeemDeposits(alice.addr, CNY, 1_00);
    }

    // ─────────────────────────────────────────── Nonces ─────────────────────────────────────────

    function testCancelNonceMarksItUsed() public {
        vm.expectEmit(address(ledger));
        emit ISettlementLedger.NonceCancelled(alice.addr, CNY, 5);
        vm.prank(alice.addr);
        ledger.cancelNonce(CNY, 5);

        assertTrue(ledger.isNonceUsed(alice.addr, CNY, 5));
        assertFalse(ledger.isNonceUsed(alice.addr, CNY, 4));
        assertEq(ledger.getAccount(alice.addr, CNY).nonceBitmap, 1 << 5);
        assertFalse(ledger.isNonceUsed(alice.addr, HKD, 5), "nonces are per currency");
    }

    function testCancelNonceAtBaseSlidesTheWindow() public {
        vm.startPrank(alice.addr);
        ledger.cancelNonce(CNY, 1);
        ledger.cancelNonce(CNY, 0);
        vm.stopPrank();
        assertEq(ledger.getAccount(alice.addr, CNY).nonceBase, 2);
        assertEq(ledger.getAccount(alice.addr, CNY).nonceBitmap, 0);
    }

    function testCancelledNonceRejectsItsPayment() public {
        Payment memory p = _payment(alice, max, bankB, 1_00, 3);
        vm.prank(alice.addr);
        ledger.cancelNonce(CNY, 3);

        _expectRejected(p, RejectReason.NonceUsed);
        (uint256 settled, ) = _settle(relayerA, _one(_signed(p, alice.key)));
        assertEq(settled, 0);
        assertEq(_balance(alice), OPENING_BALANCE);
    }

    function testCancelNonceRevertsWhenAlreadyCancelled() public {
        vm.startPrank(alice.addr);
        ledger.cancelNonce(CNY, 5);
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementLedger.NonceAlreadyUsed.selector, alice.addr, CNY, 5)
        );
        ledger.cancelNonce(CNY, 5);
        vm.stopPrank();
    }

    function testCancelNonceRevertsWhenUsedByAPayment() public {
        _pay(alice, max, bankB, 1_00, 0);
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementLedger.NonceAlreadyUsed.selector, alice.addr, CNY, 0)
        );
        vm.prank(alice.addr);
        ledger.cancelNonce(CNY, 0);
    }

    function testCancelNonceRevertsOutOfWindow() public {
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementLedger.NonceOutOfWindow.selector, alice.addr, CNY, 64, 0)
        );
        vm.prank(alice.addr);
        ledger.cancelNonce(CNY, 64);
    }

    function testInvalidateNoncesMovesTheBase() public {
        vm.expectEmit(address(ledger));
        emit ISettlementLedger.NoncesInvalidated(alice.addr, CNY, 10);
        vm.prank(alice.addr);
        ledger.invalidateNonces(CNY, 10);

        assertEq(ledger.getAccount(alice.addr, CNY).nonceBase, 10);
        assertTrue(ledger.isNonceUsed(alice.addr, CNY, 9));
        assertFalse(ledger.isNonceUsed(alice.addr, CNY, 10));

        Payment memory stale = _payment(alice, max, bankB, 1_00, 3);
        _expectRejected(stale, RejectReason.NonceUsed);
        (uint256 settled, ) = _settle(relayerA, _one(_signed(stale, alice.key)));
        assertEq(settled, 0);
        _pay(alice, max, bankB, 1_00, 73);
    }

    function testInvalidateNoncesKeepsCancelledNoncesAhead() public {
        vm.startPrank(alice.addr);
        ledger.cancelNonce(CNY, 12);
        ledger.invalidateNonces(CNY, 10);
        vm.stopPrank();
        assertEq(ledger.getAccount(alice.addr, CNY).nonceBitmap, 1 << 2);
        assertTrue(ledger.isNonceUsed(alice.addr, CNY, 12));
    }

    function testInvalidateNoncesBelowBaseChangesNothing() public {
        vm.startPrank(alice.addr);
        ledger.invalidateNonces(CNY, 10);
        ledger.invalidateNonces(CNY, 4);
        vm.stopPrank();
        assertEq(ledger.getAccount(alice.addr, CNY).nonceBase, 10);
    }

    function testInvalidateNoncesRevertsBeyondMaxBase() public {
        uint256 tooFar = AccountLib.MAX_NONCE_BASE + 1;
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementLedger.NonceOutOfWindow.selector, alice.addr, CNY, tooFar, 0)
        );
        vm.prank(alice.addr);
        ledger.invalidateNonces(CNY, tooFar);

        vm.prank(alice.addr);
        ledger.invalidateNonces(CNY, AccountLib.MAX_NONCE_BASE);
        assertEq(ledger.getAccount(alice.addr, CNY).nonceBase, AccountLib.MAX_NONCE_BASE);
    }

    /// @dev An account holder who moves its window to the top of the nonce range and keeps cancelling must
    /// not be able to change its bank or reopen nonces it has already used.
    function testNoncesAtTopOfRangeNeverChangeTheAccount() public {
        vm.startPrank(carol.addr);
        ledger.invalidateNonces(CNY, AccountLib.MAX_NONCE_BASE);
        for (uint256 nonce = AccountLib.MAX_NONCE_BASE; nonce < AccountLib.MAX_NONCE_BASE + 65; ++nonce) {
            try ledger.cancelNonce(CNY, nonce) {} catch {}
        }
        vm.stopPrank();

        assertEq(ledger.getAccount(carol.addr, CNY).bankId, bankB, "the account moved to another bank");
        assertEq(_balance(carol), OPENING_BALANCE);
        assertTrue(ledger.isNonceUsed(carol.addr, CNY, 0), "a used nonce became usable again");
        assertGe(ledger.getAccount(carol.addr, CNY).nonceBase, AccountLib.MAX_NONCE_BASE);
    }

    // ─────────────────────────────────────────── Helpers ──────────────────────────────────────────

    function _freeze(address account) private {
        vm.prank(freezer);
        ledger.setFrozen(account, CNY, true);
    }

    function _pause() private {
        vm.prank(pauser);
        registry.pause();
    }
}
