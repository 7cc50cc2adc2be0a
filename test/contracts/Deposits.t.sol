// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {BankStatus, IBankRegistry} from "../../contracts/interfaces/IBankRegistry.sol";
import {
    AccountView,
    ISettlementLedger,
    Payment,
    RejectReason
} from "../../contracts/interfaces/ISettlementLedger.sol";
import {LedgerTest} from "./utils/LedgerTest.sol";

contract DepositsTest is LedgerTest {
    uint256 internal constant SUPPLY_CAP = type(uint96).max;

    address internal newcomer = makeAddr("newcomer");

    // ─────────────────────────────────────────── Open ───────────────────────────────────────────

    function testOpenAccountAssignsTheBank() public {
        vm.expectEmit(address(ledger));
        emit ISettlementLedger.AccountOpened(newcomer, CNY, bankA);
        vm.prank(adminA);
        ledger.openAccount(newcomer, CNY);

        AccountView memory account = ledger.getAccount(newcomer, CNY);
        assertEq(account.bankId, bankA);
        assertEq(account.balance, 0);
        assertFalse(account.frozen);
        assertFalse(account.limited);
        assertEq(ledger.getAccount(newcomer, HKD).bankId, 0, "accounts are per currency");
    }

    function testOpenAccountTwiceAtTheSameBankIsANoOp() public {
        vm.recordLogs();
        vm.prank(adminA);
        ledger.openAccount(alice.addr, CNY);

        assertEq(vm.getRecordedLogs().length, 0);
        assertEq(_balance(alice), OPENING_BALANCE);
    }

    function testOpenAccountInAnotherCurrencyAtAnotherBank() public {
        vm.prank(adminB);
        ledger.openAccount(alice.addr, HKD);
        assertEq(ledger.getAccount(alice.addr, HKD).bankId, bankB);
        assertEq(ledger.getAccount(alice.addr, CNY).bankId, bankA);
    }

    function testOpenAccountRevertsForCustomerOfAnotherBank() public {
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementLedger.AccountAtOtherBank.selector, alice.addr, CNY, bankA)
        );
        vm.prank(adminB);
        ledger.openAccount(alice.addr, CNY);
    }

    function testOpenAccountRevertsOnZeroAddress() public {
        vm.expectRevert(ISettlementLedger.ZeroAddress.selector);
        vm.prank(adminA);
        ledger.openAccount(address(0), CNY);
    }

    function testOpenAccountRevertsForNonAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.NotBankAdmin.selector, relayerA));
        vm.prank(relayerA);
        ledger.openAccount(newcomer, CNY);
    }

    function testOpenAccountRevertsOnDisabledCurrency() public {
        vm.prank(operator);
        registry.setCurrencyEnabled(CNY, false);
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.CurrencyNotSupported.selector, CNY));
        vm.prank(adminA);
        ledger.openAccount(newcomer, CNY);
    }

    // ─────────────────────────────────────────── Close ──────────────────────────────────────────

    function testCloseAccountClearsBankAndLimit() public {
        vm.startPrank(adminA);
        ledger.setCustomerLimit(mia.addr, CNY, 100_00);
        vm.expectEmit(address(ledger));
        emit ISettlementLedger.AccountClosed(mia.addr, CNY, bankA);
        ledger.closeAccount(mia.addr, CNY);
        vm.stopPrank();

        AccountView memory account = ledger.getAccount(mia.addr, CNY);
        assertEq(account.bankId, 0);
        assertFalse(account.limited);
        assertEq(ledger.getCustomerLimit(mia.addr, CNY).dailyLimit, 0);
    }

    function testClosedAccountCannotBePaid() public {
        vm.prank(adminA);
        ledger.closeAccount(mia.addr, CNY);
        Payment memory p = _payment(alice, mia, bankA, 1_00, 0);

        _expectRejected(p, RejectReason.ReceiverNotCustomer);
        (uint256 settled, ) = _settle(relayerA, _one(_signed(p, alice.key)));
        assertEq(settled, 0);
    }

    function testCloseAccountRevertsWhenNotEmpty() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                ISettlementLedger.AccountNotEmpty.selector,
                alice.addr,
                CNY,
                OPENING_BALANCE
            )
        );
        vm.prank(adminA);
        ledger.closeAccount(alice.addr, CNY);
    }

    function testCloseAccountRevertsWhenFrozen() public {
        vm.prank(freezer);
        ledger.setFrozen(mia.addr, CNY, true);
        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.AccountIsFrozen.selector, mia.addr, CNY));
        vm.prank(adminA);
        ledger.closeAccount(mia.addr, CNY);
        assertEq(ledger.getAccount(mia.addr, CNY).bankId, bankA);
    }

    function testCloseAccountRevertsWhenNotOpen() public {
        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.AccountNotOpen.selector, newcomer, CNY));
        vm.prank(adminA);
        ledger.closeAccount(newcomer, CNY);
    }

    function testCloseAccountRevertsForCustomerOfAnotherBank() public {
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementLedger.AccountAtOtherBank.selector, mia.addr, CNY, bankA)
        );
        vm.prank(adminB);
        ledger.closeAccount(mia.addr, CNY);
    }

    function testCloseAccountKeepsNonceStateWhenReopenedElsewhere() public {
        Payment memory first = _payment(alice, max, bankB, 1_00, 0);
        _settle(relayerA, _one(_signed(first, alice.key)));
        _pay(alice, max, bankB, 2_00, 1);
        vm.prank(alice.addr);
        ledger.cancelNonce(CNY, 5);
        vm.startPrank(adminA);
        ledger.redeemDeposits(alice.addr, CNY, _balance(alice));
        ledger.closeAccount(alice.addr, CNY);
        vm.stopPrank();

        vm.prank(adminB);
        ledger.issueDeposits(alice.addr, CNY, 50_00);

        AccountView memory account = ledger.getAccount(alice.addr, CNY);
        assertEq(account.bankId, bankB);
        assertEq(account.nonceBase, 2);
        assertEq(account.nonceBitmap, 1 << 3);
        assertTrue(ledger.isNonceUsed(alice.addr, CNY, 5));
        // Her first payment, replayed through her new bank, must not settle again.
        _expectRejected(first, RejectReason.NonceUsed);
        (uint256 settled, ) = _settle(relayerB, _one(_signed(first, alice.key)));
        assertEq(settled, 0);
        assertEq(_balance(alice), 50_00);
    }

    // ─────────────────────────────────────────── Issue ──────────────────────────────────────────

    function testIssueDepositsOpensTheAccount() public {
        uint256 positionBefore = _deposits(bankA);
        uint256 supplyBefore = ledger.getSupply(CNY).deposits;

        vm.expectEmit(address(ledger));
        emit ISettlementLedger.AccountOpened(newcomer, CNY, bankA);
        vm.expectEmit(address(ledger));
        emit ISettlementLedger.DepositsIssued(newcomer, CNY, bankA, 75_00);
        vm.prank(adminA);
        ledger.issueDeposits(newcomer, CNY, 75_00);

        assertEq(ledger.getAccount(newcomer, CNY).bankId, bankA);
        assertEq(ledger.balanceOf(newcomer, CNY), 75_00);
        assertEq(_deposits(bankA), positionBefore + 75_00);
        assertEq(ledger.getSupply(CNY).deposits, supplyBefore + 75_00);
        assertEq(_reserves(bankA), int256(RESERVES), "issuing deposits moves no reserves");
    }

    function testIssueDepositsToAnOpenAccount() public {
        vm.recordLogs();
        vm.prank(adminA);
        ledger.issueDeposits(alice.addr, CNY, 5_00);

        assertEq(vm.getRecordedLogs().length, 1, "only DepositsIssued");
        assertEq(_balance(alice), OPENING_BALANCE + 5_00);
        assertEq(_deposits(bankA), 2 * OPENING_BALANCE + 5_00);
    }

    function testIssueDepositsRevertsForCustomerOfAnotherBank() public {
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementLedger.AccountAtOtherBank.selector, carol.addr, CNY, bankB)
        );
        vm.prank(adminA);
        ledger.issueDeposits(carol.addr, CNY, 1_00);
        assertEq(_balance(carol), OPENING_BALANCE);
    }

    function testIssueDepositsRevertsToFrozenAccount() public {
        vm.prank(adminA);
        ledger.setFrozen(alice.addr, CNY, true);
        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.AccountIsFrozen.selector, alice.addr, CNY));
        vm.prank(adminA);
        ledger.issueDeposits(alice.addr, CNY, 1_00);
    }

    function testIssueDepositsRevertsToFrozenUnopenedAccount() public {
        vm.prank(freezer);
        ledger.setFrozen(newcomer, CNY, true);
        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.AccountIsFrozen.selector, newcomer, CNY));
        vm.prank(adminA);
        ledger.issueDeposits(newcomer, CNY, 1_00);
        assertEq(ledger.getAccount(newcomer, CNY).bankId, 0, "the failed issue opens nothing");
    }

    function testIssueDepositsUpToTheSupplyCap() public {
        uint256 headroom = SUPPLY_CAP - ledger.getSupply(CNY).deposits;
        vm.prank(adminC);
        ledger.issueDeposits(noor.addr, CNY, headroom);
        assertEq(ledger.getSupply(CNY).deposits, SUPPLY_CAP);
        assertEq(_balance(noor), headroom);

        vm.expectRevert(
            abi.encodeWithSelector(ISettlementLedger.SupplyCapExceeded.selector, CNY, SUPPLY_CAP, 1)
        );
        vm.prank(adminA);
        ledger.issueDeposits(alice.addr, CNY, 1);
    }

    function testIssueDepositsRevertsJustAboveTheSupplyCap() public {
        uint256 total = ledger.getSupply(CNY).deposits;
        uint256 amount = SUPPLY_CAP - total + 1;
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementLedger.SupplyCapExceeded.selector, CNY, total, amount)
        );
        vm.prank(adminA);
        ledger.issueDeposits(alice.addr, CNY, amount);
    }

    function testIssueDepositsRevertsOnInvalidAmount() public {
        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.InvalidAmount.selector, 0));
        vm.prank(adminA);
        ledger.issueDeposits(alice.addr, CNY, 0);

        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.InvalidAmount.selector, SUPPLY_CAP + 1));
        vm.prank(adminA);
        ledger.issueDeposits(alice.addr, CNY, SUPPLY_CAP + 1);
    }

    function testIssueDepositsRevertsOnZeroAddress() public {
        vm.expectRevert(ISettlementLedger.ZeroAddress.selector);
        vm.prank(adminA);
        ledger.issueDeposits(address(0), CNY, 1_00);
    }

    function testIssueDepositsRevertsForNonAdmin() public {
        address[3] memory callers = [agent, relayerA, alice.addr];
        for (uint256 i; i < callers.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IBankRegistry.NotBankAdmin.selector, callers[i]));
            vm.prank(callers[i]);
            ledger.issueDeposits(alice.addr, CNY, 1_00);
        }
    }

    function testIssueDepositsRevertsOnDisabledCurrency() public {
        vm.prank(operator);
        registry.setCurrencyEnabled(CNY, false);
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.CurrencyNotSupported.selector, CNY));
        vm.prank(adminA);
        ledger.issueDeposits(alice.addr, CNY, 1_00);
    }

    function testIssueDepositsRevertsWhenPaused() public {
        vm.prank(pauser);
        registry.pause();
        vm.expectRevert(ISettlementLedger.NetworkPaused.selector);
        vm.prank(adminA);
        ledger.issueDeposits(alice.addr, CNY, 1_00);
    }

    function testFuzzIssueDepositsKeepsPositionAndSupplyInStep(uint256 amount, bool toNewcomer) public {
        amount = bound(amount, 1, SUPPLY_CAP - ledger.getSupply(CNY).deposits);
        address account = toNewcomer ? newcomer : bob.addr;
        uint256 balanceBefore = ledger.balanceOf(account, CNY);
        uint256 positionBefore = _deposits(bankA);
        uint256 supplyBefore = ledger.getSupply(CNY).deposits;

        vm.prank(adminA);
        ledger.issueDeposits(account, CNY, amount);

        assertEq(ledger.balanceOf(account, CNY), balanceBefore + amount);
        assertEq(_deposits(bankA), positionBefore + amount);
        assertEq(ledger.getSupply(CNY).deposits, supplyBefore + amount);
    }

    // ─────────────────────────────────────────── Redeem ─────────────────────────────────────────

    function testRedeemDepositsDebitsAccountPositionAndSupply() public {
        uint256 supplyBefore = ledger.getSupply(CNY).deposits;

        vm.expectEmit(address(ledger));
        emit ISettlementLedger.DepositsRedeemed(alice.addr, CNY, bankA, 40_00);
        vm.prank(adminA);
        ledger.redeemDeposits(alice.addr, CNY, 40_00);

        assertEq(_balance(alice), OPENING_BALANCE - 40_00);
        assertEq(_deposits(bankA), 2 * OPENING_BALANCE - 40_00);
        assertEq(ledger.getSupply(CNY).deposits, supplyBefore - 40_00);
        assertEq(_reserves(bankA), int256(RESERVES), "redeeming deposits moves no reserves");
    }

    function testRedeemDepositsWholeBalance() public {
        vm.prank(adminA);
        ledger.redeemDeposits(alice.addr, CNY, OPENING_BALANCE);
        assertEq(_balance(alice), 0);
        assertEq(ledger.getAccount(alice.addr, CNY).bankId, bankA, "the account stays open");
    }

    function testRedeemDepositsRevertsBeyondBalance() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                ISettlementLedger.InsufficientDeposits.selector,
                alice.addr,
                CNY,
                OPENING_BALANCE,
                OPENING_BALANCE + 1
            )
        );
        vm.prank(adminA);
        ledger.redeemDeposits(alice.addr, CNY, OPENING_BALANCE + 1);
    }

    function testRedeemDepositsRevertsFromFrozenAccount() public {
        vm.prank(freezer);
        ledger.setFrozen(alice.addr, CNY, true);
        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.AccountIsFrozen.selector, alice.addr, CNY));
        vm.prank(adminA);
        ledger.redeemDeposits(alice.addr, CNY, 1_00);
        assertEq(_balance(alice), OPENING_BALANCE);
    }

    function testRedeemDepositsRevertsForCustomerOfAnotherBank() public {
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementLedger.AccountAtOtherBank.selector, carol.addr, CNY, bankB)
        );
        vm.prank(adminA);
        ledger.redeemDeposits(carol.addr, CNY, 1_00);
    }

    function testRedeemDepositsRevertsWhenNotOpen() public {
        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.AccountNotOpen.selector, newcomer, CNY));
        vm.prank(adminA);
        ledger.redeemDeposits(newcomer, CNY, 1_00);
    }

    function testRedeemDepositsRevertsOnInvalidAmount() public {
        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.InvalidAmount.selector, 0));
        vm.prank(adminA);
        ledger.redeemDeposits(alice.addr, CNY, 0);

        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.InvalidAmount.selector, SUPPLY_CAP + 1));
        vm.prank(adminA);
        ledger.redeemDeposits(alice.addr, CNY, SUPPLY_CAP + 1);
    }

    function testRedeemDepositsRevertsForNonAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.NotBankAdmin.selector, alice.addr));
        vm.prank(alice.addr);
        ledger.redeemDeposits(alice.addr, CNY, 1_00);
    }

    function testRedeemDepositsRevertsWhenPaused() public {
        vm.prank(pauser);
        registry.pause();
        vm.expectRevert(ISettlementLedger.NetworkPaused.selector);
        vm.prank(adminA);
        ledger.redeemDeposits(alice.addr, CNY, 1_00);
    }

    function testFuzzIssueThenRedeemRestoresTotals(uint256 issued, uint256 redeemed) public {
        issued = bound(issued, 1, 1e24);
        redeemed = bound(redeemed, 1, OPENING_BALANCE + issued);
        uint256 supplyBefore = ledger.getSupply(CNY).deposits;

        vm.startPrank(adminA);
        ledger.issueDeposits(alice.addr, CNY, issued);
        ledger.redeemDeposits(alice.addr, CNY, redeemed);
        vm.stopPrank();

        assertEq(_balance(alice), OPENING_BALANCE + issued - redeemed);
        assertEq(_deposits(bankA), _balance(alice) + _balance(bob) + _balance(mia));
        assertEq(ledger.getSupply(CNY).deposits, supplyBefore + issued - redeemed);
    }

    // ─────────────────────────────────────── Customer limit ─────────────────────────────────────

    function testSetCustomerLimitMarksTheAccountLimited() public {
        vm.expectEmit(address(ledger));
        emit ISettlementLedger.CustomerLimitSet(alice.addr, CNY, 100_00);
        vm.prank(adminA);
        ledger.setCustomerLimit(alice.addr, CNY, 100_00);

        assertTrue(ledger.getAccount(alice.addr, CNY).limited);
        assertEq(ledger.getCustomerLimit(alice.addr, CNY).dailyLimit, 100_00);
        assertEq(_balance(alice), OPENING_BALANCE, "the flag leaves the balance alone");
    }

    function testSetCustomerLimitZeroRemovesTheLimit() public {
        vm.startPrank(adminA);
        ledger.setCustomerLimit(alice.addr, CNY, 100_00);
        vm.expectEmit(address(ledger));
        emit ISettlementLedger.CustomerLimitSet(alice.addr, CNY, 0);
        ledger.setCustomerLimit(alice.addr, CNY, 0);
        vm.stopPrank();

        assertFalse(ledger.getAccount(alice.addr, CNY).limited);
        assertEq(ledger.getCustomerLimit(alice.addr, CNY).dailyLimit, 0);
        _pay(alice, max, bankB, 500_00, 0);
    }

    function testSetCustomerLimitRevertsForCustomerOfAnotherBank() public {
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementLedger.AccountAtOtherBank.selector, carol.addr, CNY, bankB)
        );
        vm.prank(adminA);
        ledger.setCustomerLimit(carol.addr, CNY, 1_00);
    }

    function testSetCustomerLimitRevertsWhenNotOpen() public {
        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.AccountNotOpen.selector, newcomer, CNY));
        vm.prank(adminA);
        ledger.setCustomerLimit(newcomer, CNY, 1_00);
    }

    function testSetCustomerLimitRevertsForNonAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.NotBankAdmin.selector, operator));
        vm.prank(operator);
        ledger.setCustomerLimit(alice.addr, CNY, 1_00);
    }

    // ───────────────────────────────────── Suspended bank ───────────────────────────────────────

    function testSuspendedBankAdminIsRefused() public {
        vm.prank(operator);
        registry.setBankStatus(bankA, BankStatus.Suspended);
        bytes memory notActive = abi.encodeWithSelector(IBankRegistry.BankNotActive.selector, bankA);

        vm.startPrank(adminA);
        vm.expectRevert(notActive);
        ledger.openAccount(newcomer, CNY);
        vm.expectRevert(notActive);
        ledger.closeAccount(mia.addr, CNY);
        vm.expectRevert(notActive);
        ledger.issueDeposits(alice.addr, CNY, 1_00);
        vm.expectRevert(notActive);
        ledger.redeemDeposits(alice.addr, CNY, 1_00);
        vm.expectRevert(notActive);
        ledger.setCustomerLimit(alice.addr, CNY, 1_00);
        vm.stopPrank();

        assertEq(_balance(alice), OPENING_BALANCE);
        assertEq(ledger.getAccount(mia.addr, CNY).bankId, bankA);
    }
}
