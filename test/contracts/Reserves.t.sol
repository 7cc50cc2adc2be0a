// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IBankRegistry} from "../../contracts/interfaces/IBankRegistry.sol";
import {ISettlementLedger, Supply} from "../../contracts/interfaces/ISettlementLedger.sol";
import {LedgerTest} from "./utils/LedgerTest.sol";

contract ReservesTest is LedgerTest {
    uint16 internal constant USD = 840;
    uint256 internal constant SUPPLY_CAP = type(uint96).max;

    // ─────────────────────────────────────────── Issue ──────────────────────────────────────────

    function testIssueReservesCreditsBankAndSupply() public {
        uint256 depositsBefore = _deposits(bankA);
        Supply memory before = ledger.getSupply(CNY);

        vm.expectEmit(address(ledger));
        emit ISettlementLedger.ReservesIssued(bankA, CNY, 250_00);
        vm.prank(agent);
        ledger.issueReserves(bankA, CNY, 250_00);

        assertEq(_reserves(bankA), int256(RESERVES + 250_00));
        assertEq(_reserves(bankB), int256(RESERVES), "other banks unchanged");
        assertEq(ledger.getSupply(CNY).reserves, before.reserves + 250_00);
        assertEq(ledger.getSupply(CNY).deposits, before.deposits, "deposits unchanged");
        assertEq(_deposits(bankA), depositsBefore);
    }

    function testIssueReservesInANewCurrencyForABank() public {
        vm.prank(agent);
        ledger.issueReserves(bankA, HKD, 7_00);

        (int256 reserves, ) = ledger.getPosition(bankA, HKD);
        assertEq(reserves, 7_00);
        assertEq(ledger.getSupply(HKD).reserves, RESERVES + 7_00);
        assertEq(_reserves(bankA), int256(RESERVES), "positions are per currency");
    }

    function testIssueReservesUpToTheSupplyCap() public {
        uint256 headroom = SUPPLY_CAP - ledger.getSupply(CNY).reserves;
        vm.prank(agent);
        ledger.issueReserves(bankC, CNY, headroom);
        assertEq(ledger.getSupply(CNY).reserves, SUPPLY_CAP);
        assertEq(_reserves(bankC), int256(RESERVES + headroom));

        vm.expectRevert(
            abi.encodeWithSelector(ISettlementLedger.SupplyCapExceeded.selector, CNY, SUPPLY_CAP, 1)
        );
        vm.prank(agent);
        ledger.issueReserves(bankA, CNY, 1);
    }

    function testIssueReservesRevertsJustAboveTheSupplyCap() public {
        uint256 total = ledger.getSupply(CNY).reserves;
        uint256 amount = SUPPLY_CAP - total + 1;
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementLedger.SupplyCapExceeded.selector, CNY, total, amount)
        );
        vm.prank(agent);
        ledger.issueReserves(bankA, CNY, amount);
    }

    function testIssueReservesRevertsOnZeroAmount() public {
        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.InvalidAmount.selector, 0));
        vm.prank(agent);
        ledger.issueReserves(bankA, CNY, 0);
    }

    function testIssueReservesRevertsOnAmountBeyond96Bits() public {
        uint256 amount = SUPPLY_CAP + 1;
        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.InvalidAmount.selector, amount));
        vm.prank(agent);
        ledger.issueReserves(bankA, CNY, amount);

        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.InvalidAmount.selector, type(uint256).max));
        vm.prank(agent);
        ledger.issueReserves(bankA, CNY, type(uint256).max);
    }

    function testIssueReservesRevertsOnUnknownBank() public {
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.UnknownBank.selector, 4));
        vm.prank(agent);
        ledger.issueReserves(4, CNY, 1_00);

        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.UnknownBank.selector, 0));
        vm.prank(agent);
        ledger.issueReserves(0, CNY, 1_00);
    }

    function testIssueReservesRevertsOnDisabledCurrency() public {
        vm.prank(operator);
        registry.setCurrencyEnabled(CNY, false);
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.CurrencyNotSupported.selector, CNY));
        vm.prank(agent);
        ledger.issueReserves(bankA, CNY, 1_00);
    }

    function testIssueReservesRevertsOnUnlistedCurrency() public {
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.CurrencyNotSupported.selector, USD));
        vm.prank(agent);
        ledger.issueReserves(bankA, USD, 1_00);
    }

    function testIssueReservesRevertsForNonAgent() public {
        bytes32 role = registry.SETTLEMENT_AGENT_ROLE();
        address[4] memory callers = [operator, adminA, relayerA, governor];
        for (uint256 i; i < callers.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.MissingRole.selector, callers[i], role));
            vm.prank(callers[i]);
            ledger.issueReserves(bankA, CNY, 1_00);
        }
        assertEq(_reserves(bankA), int256(RESERVES));
    }

    function testIssueReservesRevertsWhenPaused() public {
        vm.prank(pauser);
        registry.pause();
        vm.expectRevert(ISettlementLedger.NetworkPaused.selector);
        vm.prank(agent);
        ledger.issueReserves(bankA, CNY, 1_00);
    }

    function testFuzzIssueReservesRespectsSupplyCap(uint256 amount) public {
        amount = bound(amount, 1, SUPPLY_CAP);
        uint256 total = ledger.getSupply(CNY).reserves;
        bool fits = total + amount <= SUPPLY_CAP;
        if (!fits) {
            vm.expectRevert(
                abi.encodeWithSelector(ISettlementLedger.SupplyCapExceeded.selector, CNY, total, amount)
            );
        }
        vm.prank(agent);
        ledger.issueReserves(bankA, CNY, amount);

        assertEq(ledger.getSupply(CNY).reserves, fits ? total + amount : total);
        assertEq(
            _reserves(bankA) + _reserves(bankB) + _reserves(bankC),
            int256(uint256(ledger.getSupply(CNY).reserves))
        );
    }

    // ─────────────────────────────────────────── Redeem ─────────────────────────────────────────

    function testRedeemReservesDebitsBankAndSupply() public {
        uint256 supplyBefore = ledger.getSupply(CNY).reserves;

        vm.expectEmit(address(ledger));
        emit ISettlementLedger.ReservesRedeemed(bankB, CNY, 400_00);
        vm.prank(agent);
        ledger.redeemReserves(bankB, CNY, 400_00);

        assertEq(_reserves(bankB), int256(RESERVES - 400_00));
        assertEq(_reserves(bankA), int256(RESERVES));
        assertEq(ledger.getSupply(CNY).reserves, supplyBefore - 400_00);
    }

    function testRedeemAllReserves() public {
        vm.prank(agent);
        ledger.redeemReserves(bankC, CNY, RESERVES);
        assertEq(_reserves(bankC), 0);
        assertEq(ledger.getSupply(CNY).reserves, 2 * RESERVES);
    }

    function testRedeemReservesRevertsBeyondReserves() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                ISettlementLedger.InsufficientReserves.selector,
                bankA,
                CNY,
                int256(RESERVES),
                RESERVES + 1
            )
        );
        vm.prank(agent);
        ledger.redeemReserves(bankA, CNY, RESERVES + 1);
        assertEq(_reserves(bankA), int256(RESERVES));
    }

    function testRedeemReservesRevertsForBankWithoutReserves() public {
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementLedger.InsufficientReserves.selector, bankA, HKD, int256(0), 1)
        );
        vm.prank(agent);
        ledger.redeemReserves(bankA, HKD, 1);

        vm.expectRevert(
            abi.encodeWithSelector(ISettlementLedger.InsufficientReserves.selector, 4, CNY, int256(0), 1)
        );
        vm.prank(agent);
        ledger.redeemReserves(4, CNY, 1);
    }

    function testRedeemReservesRevertsOnZeroAmount() public {
        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.InvalidAmount.selector, 0));
        vm.prank(agent);
        ledger.redeemReserves(bankA, CNY, 0);
    }

    function testRedeemReservesRevertsOnAmountBeyond96Bits() public {
        uint256 amount = SUPPLY_CAP + 1;
        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.InvalidAmount.selector, amount));
        vm.prank(agent);
        ledger.redeemReserves(bankA, CNY, amount);
    }

    /// @dev Winding down a currency needs redemption after it stops taking payments.
    function testRedeemReservesWorksOnDisabledCurrency() public {
        vm.prank(operator);
        registry.setCurrencyEnabled(CNY, false);
        vm.prank(agent);
        ledger.redeemReserves(bankA, CNY, 1_00);
        assertEq(_reserves(bankA), int256(RESERVES - 1_00));
    }

    function testRedeemReservesRevertsForNonAgent() public {
        bytes32 role = registry.SETTLEMENT_AGENT_ROLE();
        address[4] memory callers = [operator, adminA, enforcer, governor];
        for (uint256 i; i < callers.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.MissingRole.selector, callers[i], role));
            vm.prank(callers[i]);
            ledger.redeemReserves(bankA, CNY, 1_00);
        }
        assertEq(_reserves(bankA), int256(RESERVES));
    }

    function testRedeemReservesRevertsWhenPaused() public {
        vm.prank(pauser);
        registry.pause();
        vm.expectRevert(ISettlementLedger.NetworkPaused.selector);
        vm.prank(agent);
        ledger.redeemReserves(bankA, CNY, 1_00);
    }

    function testRevokedAgentCannotIssue() public {
        bytes32 role = registry.SETTLEMENT_AGENT_ROLE();
        vm.prank(governor);
        registry.revokeRole(role, agent);
        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.MissingRole.selector, agent, role));
        vm.prank(agent);
        ledger.issueReserves(bankA, CNY, 1_00);
    }

    function testFuzzIssueThenRedeemConservesSupply(uint256 issued, uint256 redeemed) public {
        issued = bound(issued, 1, SUPPLY_CAP - ledger.getSupply(CNY).reserves);
        redeemed = bound(redeemed, 1, RESERVES + issued);
        uint256 supplyBefore = ledger.getSupply(CNY).reserves;

        vm.startPrank(agent);
        ledger.issueReserves(bankA, CNY, issued);
        ledger.redeemReserves(bankA, CNY, redeemed);
        vm.stopPrank();

        assertEq(_reserves(bankA), int256(RESERVES + issued - redeemed));
        assertEq(ledger.getSupply(CNY).reserves, supplyBefore + issued - redeemed);
        assertEq(
            _reserves(bankA) + _reserves(bankB) + _reserves(bankC),
            int256(uint256(ledger.getSupply(CNY).reserves))
        );
    }
}
