// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IAccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/IAccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {stdStorage, StdStorage} from "forge-std/Test.sol";

import {
    BankInfo,
    BankLimits,
    BankStatus,
    CurrencyConfig,
    IBankRegistry
} from "../../contracts/interfaces/IBankRegistry.sol";
import {ISettlementLedger} from "../../contracts/interfaces/ISettlementLedger.sol";
import {BatchEncoder} from "./utils/BatchEncoder.sol";
import {LedgerTest} from "./utils/LedgerTest.sol";

contract BankRegistryTest is LedgerTest {
    using stdStorage for StdStorage;

    uint16 internal constant USD = 840;

    address internal newcomer = makeAddr("newcomer");
    address internal stranger = makeAddr("stranger");

    // ──────────────────────────────────────── Currencies ────────────────────────────────────────

    function testAddCurrencyListsItEnabled() public {
        vm.expectEmit(address(registry));
        emit IBankRegistry.CurrencyAdded(USD, 2);
        vm.prank(operator);
        registry.addCurrency(USD, 2);

        CurrencyConfig memory config = registry.getCurrency(USD);
        assertTrue(config.listed);
        assertTrue(config.enabled);
        assertEq(config.exponent, 2);
    }

    function testAddCurrencyAcceptsBoundaryCodesAndExponents() public {
        vm.startPrank(operator);
        registry.addCurrency(1, 0);
        registry.addCurrency(999, 4);
        vm.stopPrank();

        assertEq(registry.getCurrency(1).exponent, 0);
        assertEq(registry.getCurrency(999).exponent, 4);
        assertTrue(registry.getCurrency(999).enabled);
    }

    function testAddCurrencyRevertsOnZeroCode() public {
        _expectInvalidCurrency(0, 2);
    }

    function testAddCurrencyRevertsOnCodeAbove999() public {
        _expectInvalidCurrency(1000, 2);
    }

    function testAddCurrencyRevertsOnExponentAbove4() public {
        _expectInvalidCurrency(USD, 5);
    }

    function testAddCurrencyRevertsOnDuplicate() public {
        _expectInvalidCurrency(CNY, 2);
        _expectInvalidCurrency(CNY, 0);
    }

    function testAddCurrencyRevertsForNonOperator() public {
        _expectNotOperator(governor);
        registry.addCurrency(USD, 2);
    }

    function testFuzzAddCurrencyAcceptsExactlyIsoRange(uint16 currency, uint8 exponent) public {
        vm.assume(currency != CNY && currency != HKD);
        bool valid = currency >= 1 && currency <= 999 && exponent <= 4;
        if (!valid) {
            vm.expectRevert(
                abi.encodeWithSelector(IBankRegistry.InvalidCurrency.selector, currency, exponent)
            );
        }
        vm.prank(operator);
        registry.addCurrency(currency, exponent);

        assertEq(registry.getCurrency(currency).listed, valid);
    }

    function testSetCurrencyEnabledTogglesOnlyTheFlag() public {
        vm.expectEmit(address(registry));
        emit IBankRegistry.CurrencyStatusChanged(CNY, false);
        vm.prank(operator);
        registry.setCurrencyEnabled(CNY, false);

        CurrencyConfig memory config = registry.getCurrency(CNY);
        assertTrue(config.listed);
        assertFalse(config.enabled);
        assertEq(config.exponent, 2);

        vm.expectEmit(address(registry));
        emit IBankRegistry.CurrencyStatusChanged(CNY, true);
        vm.prank(operator);
        registry.setCurrencyEnabled(CNY, true);
        assertTrue(registry.getCurrency(CNY).enabled);
    }

    function testSetCurrencyEnabledRevertsOnUnlistedCurrency() public {
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.CurrencyNotSupported.selector, USD));
        vm.prank(operator);
        registry.setCurrencyEnabled(USD, true);
    }

    function testSetCurrencyEnabledRevertsForNonOperator() public {
        _expectNotOperator(adminA);
        registry.setCurrencyEnabled(CNY, false);
    }

    function testDisabledCurrencyStopsRelayersAndAdmins() public {
        vm.prank(operator);
        registry.setCurrencyEnabled(CNY, false);

        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.CurrencyNotSupported.selector, CNY));
        registry.relayerTerms(relayerA, CNY);
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.CurrencyNotSupported.selector, CNY));
        registry.adminTerms(adminA, CNY);
        (uint16 bankId, ) = registry.relayerTerms(relayerB, HKD);
        assertEq(bankId, bankB, "other currencies are unaffected");
    }

    // ─────────────────────────────────────────── Banks ──────────────────────────────────────────

    function testRegisterBankStoresEntryAndAdmin() public {
        vm.expectEmit(address(registry));
        emit IBankRegistry.BankRegistered(4, "DELTDEFFXXX", "Delta Bank", newcomer);
        vm.prank(operator);
        uint16 bankId = registry.registerBank("DELTDEFFXXX", "Delta Bank", newcomer);

        assertEq(bankId, 4);
        assertEq(registry.bankCount(), 4);
        assertEq(registry.adminBank(newcomer), 4);
        assertEq(uint8(registry.bankStatus(4)), uint8(BankStatus.Active));
        BankInfo memory info = registry.getBank(4);
        assertEq(uint8(info.status), uint8(BankStatus.Active));
        assertEq(info.admin, newcomer);
        assertEq(info.bic, bytes11("DELTDEFFXXX"));
        assertEq(info.name, "Delta Bank");
        assertEq(registry.adminTerms(newcomer, CNY), 4);
    }

    function testRegisterBankRevertsOnZeroAdmin() public {
        vm.expectRevert(IBankRegistry.ZeroAddress.selector);
        vm.prank(operator);
        registry.registerBank("DELTDEFFXXX", "Delta Bank", address(0));
    }

    function testRegisterBankRevertsWhenIdsRunOut() public {
        stdstore.target(address(registry)).sig("bankCount()").checked_write(uint256(type(uint16).max));
        assertEq(registry.bankCount(), type(uint16).max);

        vm.expectRevert(IBankRegistry.TooManyBanks.selector);
        vm.prank(operator);
        registry.registerBank("DELTDEFFXXX", "Delta Bank", newcomer);
    }

    function testRegisterBankRevertsForNonOperator() public {
        _expectNotOperator(adminA);
        registry.registerBank("DELTDEFFXXX", "Delta Bank", newcomer);
    }

    function testSetBankStatusSuspendsAndResumes() public {
        vm.expectEmit(address(registry));
        emit IBankRegistry.BankStatusChanged(bankA, BankStatus.Suspended);
        vm.prank(operator);
        registry.setBankStatus(bankA, BankStatus.Suspended);
        assertEq(uint8(registry.bankStatus(bankA)), uint8(BankStatus.Suspended));
        assertEq(uint8(registry.getBank(bankA).status), uint8(BankStatus.Suspended));

        vm.expectEmit(address(registry));
        emit IBankRegistry.BankStatusChanged(bankA, BankStatus.Active);
        vm.prank(operator);
        registry.setBankStatus(bankA, BankStatus.Active);
        assertEq(uint8(registry.bankStatus(bankA)), uint8(BankStatus.Active));
    }

    function testSuspendedBankKeysLoseTheirTerms() public {
        vm.prank(operator);
        registry.setBankStatus(bankA, BankStatus.Suspended);

        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.BankNotActive.selector, bankA));
        registry.relayerTerms(relayerA, CNY);
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.BankNotActive.selector, bankA));
        registry.adminTerms(adminA, CNY);
        assertEq(registry.adminTerms(adminB, CNY), bankB, "other banks are unaffected");
    }

    function testSetBankStatusRevertsOnStatusNone() public {
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.InvalidBankStatus.selector, BankStatus.None));
        vm.prank(operator);
        registry.setBankStatus(bankA, BankStatus.None);
    }

    function testSetBankStatusRevertsOnOutOfRangeStatus() public {
        vm.prank(operator);
        (bool ok, bytes memory reason) = address(registry).call(
            abi.encodeWithSelector(IBankRegistry.setBankStatus.selector, bankA, uint8(3))
        );
        assertFalse(ok);
        assertEq(reason.length, 0, "the ABI decoder refuses an enum value out of range");
        assertEq(uint8(registry.bankStatus(bankA)), uint8(BankStatus.Active));
    }

    function testSetBankStatusRevertsOnUnknownBank() public {
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.UnknownBank.selector, 4));
        vm.prank(operator);
        registry.setBankStatus(4, BankStatus.Suspended);

        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.UnknownBank.selector, 0));
        vm.prank(operator);
        registry.setBankStatus(0, BankStatus.Active);
    }

    function testSetBankStatusRevertsForNonOperator() public {
        _expectNotOperator(pauser);
        registry.setBankStatus(bankA, BankStatus.Suspended);
    }

    // ───────────────────────────────────────── Bank admin ───────────────────────────────────────

    function testSetBankAdminMovesTheMapping() public {
        vm.expectEmit(address(registry));
        emit IBankRegistry.BankAdminChanged(bankA, adminA, newcomer);
        vm.prank(operator);
        registry.setBankAdmin(bankA, newcomer);

        assertEq(registry.getBank(bankA).admin, newcomer);
        assertEq(registry.adminBank(newcomer), bankA);
        assertEq(registry.adminBank(adminA), 0);
        assertEq(registry.adminTerms(newcomer, CNY), bankA);
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.NotBankAdmin.selector, adminA));
        registry.adminTerms(adminA, CNY);
    }

    function testReplacedAdminLosesItsPowers() public {
        vm.prank(operator);
        registry.setBankAdmin(bankA, newcomer);

        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.NotBankAdmin.selector, adminA));
        vm.prank(adminA);
        registry.setRelayer(stranger, true);
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.NotBankAdmin.selector, adminA));
        vm.prank(adminA);
        ledger.issueDeposits(alice.addr, CNY, 1_00);
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementLedger.NotAccountController.selector, adminA, alice.addr, CNY)
        );
        vm.prank(adminA);
        ledger.setFrozen(alice.addr, CNY, true);

        vm.prank(newcomer);
        ledger.issueDeposits(alice.addr, CNY, 1_00);
        assertEq(_balance(alice), OPENING_BALANCE + 1_00);
        assertEq(registry.relayerBank(relayerA), bankA, "the bank's relayers stay");
    }

    function testReplacedAdminIsFreeForAnotherDuty() public {
        vm.prank(operator);
        registry.setBankAdmin(bankA, newcomer);
        vm.prank(adminB);
        registry.setRelayer(adminA, true);
        assertEq(registry.relayerBank(adminA), bankB);
    }

    function testSetBankAdminRevertsOnZeroAddress() public {
        vm.expectRevert(IBankRegistry.ZeroAddress.selector);
        vm.prank(operator);
        registry.setBankAdmin(bankA, address(0));
    }

    function testSetBankAdminRevertsOnUnknownBank() public {
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.UnknownBank.selector, 4));
        vm.prank(operator);
        registry.setBankAdmin(4, newcomer);
    }

    function testSetBankAdminRevertsOnItsCurrentAdmin() public {
        _expectDutiesNotSeparated(adminA);
        vm.prank(operator);
        registry.setBankAdmin(bankA, adminA);
    }

    function testSetBankAdminRevertsForNonOperator() public {
        _expectNotOperator(adminA);
        registry.setBankAdmin(bankA, newcomer);
    }

    function testSetBankLimitsStoresCaps() public {
        vm.expectEmit(address(registry));
        emit IBankRegistry.BankLimitsSet(bankA, CNY, 50_00, 500_00);
        vm.prank(operator);
        registry.setBankLimits(bankA, CNY, 50_00, 500_00);

        BankLimits memory limits = registry.getBankLimits(bankA, CNY);
        assertEq(limits.debitCap, 50_00);
        assertEq(limits.maxPayment, 500_00);
        (uint16 bankId, BankLimits memory terms) = registry.relayerTerms(relayerA, CNY);
        assertEq(bankId, bankA);
        assertEq(terms.debitCap, 50_00);
        assertEq(terms.maxPayment, 500_00);
        assertEq(registry.getBankLimits(bankA, HKD).debitCap, 0, "caps are per currency");
    }

    function testSetBankLimitsAcceptsDisabledCurrency() public {
        vm.startPrank(operator);
        registry.setCurrencyEnabled(HKD, false);
        registry.setBankLimits(bankB, HKD, 1_00, 2_00);
        vm.stopPrank();
        assertEq(registry.getBankLimits(bankB, HKD).maxPayment, 2_00);
    }

    function testSetBankLimitsRevertsOnUnknownBank() public {
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.UnknownBank.selector, 4));
        vm.prank(operator);
        registry.setBankLimits(4, CNY, 0, 0);
    }

    function testSetBankLimitsRevertsOnUnlistedCurrency() public {
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.CurrencyNotSupported.selector, USD));
        vm.prank(operator);
        registry.setBankLimits(bankA, USD, 0, 0);
    }

    function testSetBankLimitsRevertsForNonOperator() public {
        _expectNotOperator(adminA);
        registry.setBankLimits(bankA, CNY, type(uint96).max, 0);
    }

    // ───────────────────────────────────────── Relayers ─────────────────────────────────────────

    function testSetRelayerEnablesAnotherRelayer() public {
        vm.expectEmit(address(registry));
        emit IBankRegistry.RelayerSet(bankA, newcomer, true);
        vm.prank(adminA);
        registry.setRelayer(newcomer, true);

        assertEq(registry.relayerBank(newcomer), bankA);
        (uint16 bankId, ) = registry.relayerTerms(newcomer, CNY);
        assertEq(bankId, bankA);
        assertEq(registry.relayerBank(relayerA), bankA, "a bank may run several relayers");
    }

    function testSetRelayerDisablesARelayer() public {
        vm.expectEmit(address(registry));
        emit IBankRegistry.RelayerSet(bankA, relayerA, false);
        vm.prank(adminA);
        registry.setRelayer(relayerA, false);

        assertEq(registry.relayerBank(relayerA), 0);
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.UnauthorizedRelayer.selector, relayerA));
        registry.relayerTerms(relayerA, CNY);
        (bytes memory payees, bytes memory items) = BatchEncoder.encode(
            _one(_signed(_payment(alice, max, bankB, 1_00, 0), alice.key))
        );
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.UnauthorizedRelayer.selector, relayerA));
        vm.prank(relayerA);
        ledger.settlePayments(CNY, payees, items);
    }

    function testSetRelayerRevertsWhenDisablingAnotherBanksRelayer() public {
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.UnauthorizedRelayer.selector, relayerB));
        vm.prank(adminA);
        registry.setRelayer(relayerB, false);
        assertEq(registry.relayerBank(relayerB), bankB);
    }

    function testSetRelayerRevertsWhenDisablingAnUnknownRelayer() public {
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.UnauthorizedRelayer.selector, stranger));
        vm.prank(adminA);
        registry.setRelayer(stranger, false);
    }

    function testSetRelayerRevertsWhenEnablingAnotherBanksRelayer() public {
        _expectDutiesNotSeparated(relayerB);
        vm.prank(adminA);
        registry.setRelayer(relayerB, true);
    }

    function testSetRelayerRevertsOnZeroAddress() public {
        vm.expectRevert(IBankRegistry.ZeroAddress.selector);
        vm.prank(adminA);
        registry.setRelayer(address(0), true);
    }

    function testSetRelayerRevertsForNonAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.NotBankAdmin.selector, operator));
        vm.prank(operator);
        registry.setRelayer(newcomer, true);

        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.NotBankAdmin.selector, relayerA));
        vm.prank(relayerA);
        registry.setRelayer(newcomer, true);
    }

    // ─────────────────────────────────── Separation of duties ───────────────────────────────────

    function testAdminCannotBecomeRelayer() public {
        _expectDutiesNotSeparated(adminB);
        vm.prank(adminA);
        registry.setRelayer(adminB, true);

        _expectDutiesNotSeparated(adminA);
        vm.prank(adminA);
        registry.setRelayer(adminA, true);
    }

    function testAdminCannotBecomeSettlementAgent() public {
        bytes32 role = registry.SETTLEMENT_AGENT_ROLE();
        _expectDutiesNotSeparated(adminA);
        vm.prank(governor);
        registry.grantRole(role, adminA);
        assertFalse(registry.hasRole(role, adminA));
    }

    function testAdminCannotAdministerASecondBank() public {
        _expectDutiesNotSeparated(adminA);
        vm.prank(operator);
        registry.registerBank("DELTDEFFXXX", "Delta Bank", adminA);

        _expectDutiesNotSeparated(adminA);
        vm.prank(operator);
        registry.setBankAdmin(bankB, adminA);
    }

    function testRelayerCannotBecomeAdmin() public {
        _expectDutiesNotSeparated(relayerA);
        vm.prank(operator);
        registry.registerBank("DELTDEFFXXX", "Delta Bank", relayerA);

        _expectDutiesNotSeparated(relayerA);
        vm.prank(operator);
        registry.setBankAdmin(bankB, relayerA);

        _expectDutiesNotSeparated(relayerA);
        vm.prank(operator);
        registry.setBankAdmin(bankA, relayerA);
    }

    function testRelayerCannotBecomeSettlementAgent() public {
        bytes32 role = registry.SETTLEMENT_AGENT_ROLE();
        _expectDutiesNotSeparated(relayerA);
        vm.prank(governor);
        registry.grantRole(role, relayerA);
        assertFalse(registry.hasRole(role, relayerA));
    }

    function testSettlementAgentCannotBecomeAdmin() public {
        _expectDutiesNotSeparated(agent);
        vm.prank(operator);
        registry.registerBank("DELTDEFFXXX", "Delta Bank", agent);

        _expectDutiesNotSeparated(agent);
        vm.prank(operator);
        registry.setBankAdmin(bankA, agent);
    }

    function testSettlementAgentCannotBecomeRelayer() public {
        _expectDutiesNotSeparated(agent);
        vm.prank(adminA);
        registry.setRelayer(agent, true);
    }

    function testReleasedKeysAreFreeForOtherDuties() public {
        bytes32 role = registry.SETTLEMENT_AGENT_ROLE();
        vm.prank(governor);
        registry.revokeRole(role, agent);
        vm.prank(adminA);
        registry.setRelayer(agent, true);
        assertEq(registry.relayerBank(agent), bankA);

        vm.prank(adminB);
        registry.setRelayer(relayerB, false);
        vm.prank(governor);
        registry.grantRole(role, relayerB);
        assertTrue(registry.hasRole(role, relayerB));
    }

    // ─────────────────────────────────────────── Pause ──────────────────────────────────────────

    function testPauseAndUnpause() public {
        vm.expectEmit(address(registry));
        emit Pausable.Paused(pauser);
        vm.prank(pauser);
        registry.pause();
        assertTrue(registry.paused());

        vm.expectEmit(address(registry));
        emit Pausable.Unpaused(pauser);
        vm.prank(pauser);
        registry.unpause();
        assertFalse(registry.paused());
    }

    function testPauseRevertsWhenAlreadyPaused() public {
        vm.startPrank(pauser);
        registry.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        registry.pause();
        vm.stopPrank();
    }

    function testUnpauseRevertsWhenNotPaused() public {
        vm.expectRevert(Pausable.ExpectedPause.selector);
        vm.prank(pauser);
        registry.unpause();
    }

    function testPauseRevertsForNonPauser() public {
        bytes32 role = registry.PAUSER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, operator, role)
        );
        vm.prank(operator);
        registry.pause();
    }

    function testUnpauseRevertsForNonPauser() public {
        vm.prank(pauser);
        registry.pause();
        bytes32 role = registry.PAUSER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, governor, role)
        );
        vm.prank(governor);
        registry.unpause();
        assertTrue(registry.paused());
    }

    // ─────────────────────────────────────────── Views ──────────────────────────────────────────

    function testRelayerTermsRevertsForUnknownRelayer() public {
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.UnauthorizedRelayer.selector, adminA));
        registry.relayerTerms(adminA, CNY);
    }

    function testRelayerTermsRevertsOnUnlistedCurrency() public {
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.CurrencyNotSupported.selector, USD));
        registry.relayerTerms(relayerA, USD);
    }

    function testAdminTermsRevertsForNonAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.NotBankAdmin.selector, relayerA));
        registry.adminTerms(relayerA, CNY);
    }

    function testAdminTermsRevertsOnUnlistedCurrency() public {
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.CurrencyNotSupported.selector, USD));
        registry.adminTerms(adminA, USD);
    }

    function testActiveBanksMasksActiveIds() public {
        vm.prank(operator);
        registry.setBankStatus(bankB, BankStatus.Suspended);
        uint16[] memory ids = new uint16[](5);
        ids[0] = bankA;
        ids[1] = 99;
        ids[2] = bankB;
        ids[3] = 0;
        ids[4] = bankC;

        assertEq(registry.activeBanks(ids), (1 << 0) | (1 << 4));
        assertEq(registry.activeBanks(new uint16[](0)), 0);
    }

    function testActiveBanksReadsAtMost256Ids() public view {
        uint16[] memory ids = new uint16[](300);
        for (uint256 i; i < ids.length; ++i) ids[i] = bankA;
        assertEq(registry.activeBanks(ids), type(uint256).max);
    }

    function testUnknownBankReadsAsEmpty() public view {
        BankInfo memory info = registry.getBank(99);
        assertEq(uint8(info.status), uint8(BankStatus.None));
        assertEq(info.admin, address(0));
        assertEq(uint8(registry.bankStatus(99)), uint8(BankStatus.None));
        assertEq(registry.bankCount(), 3);
    }

    // ─────────────────────────────────────── Default admin ──────────────────────────────────────

    function testDefaultAdminTransferWaitsForDelay() public {
        assertEq(registry.defaultAdminDelay(), 1 days);
        uint48 schedule = uint48(block.timestamp + 1 days);
        vm.expectEmit(address(registry));
        emit IAccessControlDefaultAdminRules.DefaultAdminTransferScheduled(newcomer, schedule);
        vm.prank(governor);
        registry.beginDefaultAdminTransfer(newcomer);
        (address pending, uint48 acceptAt) = registry.pendingDefaultAdmin();
        assertEq(pending, newcomer);
        assertEq(acceptAt, schedule);

        vm.warp(schedule);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminDelay.selector,
                schedule
            )
        );
        vm.prank(newcomer);
        registry.acceptDefaultAdminTransfer();
        assertEq(registry.defaultAdmin(), governor, "still the old admin until the delay has passed");

        vm.warp(uint256(schedule) + 1);
        vm.prank(newcomer);
        registry.acceptDefaultAdminTransfer();

        bytes32 adminRole = registry.DEFAULT_ADMIN_ROLE();
        assertEq(registry.defaultAdmin(), newcomer);
        assertTrue(registry.hasRole(adminRole, newcomer));
        assertFalse(registry.hasRole(adminRole, governor));
        bytes32 pauserRole = registry.PAUSER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                governor,
                adminRole
            )
        );
        vm.prank(governor);
        registry.grantRole(pauserRole, stranger);
        vm.prank(newcomer);
        registry.grantRole(pauserRole, stranger);
        assertTrue(registry.hasRole(pauserRole, stranger));
    }

    function testDefaultAdminTransferRevertsForOtherAcceptor() public {
        vm.prank(governor);
        registry.beginDefaultAdminTransfer(newcomer);
        vm.warp(block.timestamp + 1 days + 1);

        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControlDefaultAdminRules.AccessControlInvalidDefaultAdmin.selector,
                stranger
            )
        );
        vm.prank(stranger);
        registry.acceptDefaultAdminTransfer();
    }

    function testCancelledDefaultAdminTransferCannotBeAccepted() public {
        vm.startPrank(governor);
        registry.beginDefaultAdminTransfer(newcomer);
        registry.cancelDefaultAdminTransfer();
        vm.stopPrank();
        vm.warp(block.timestamp + 1 days + 1);

        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControlDefaultAdminRules.AccessControlInvalidDefaultAdmin.selector,
                newcomer
            )
        );
        vm.prank(newcomer);
        registry.acceptDefaultAdminTransfer();
        assertEq(registry.defaultAdmin(), governor);
    }

    function testDefaultAdminCannotBeGrantedDirectly() public {
        bytes32 adminRole = registry.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminRules.selector);
        vm.prank(governor);
        registry.grantRole(adminRole, newcomer);
    }

    function testDefaultAdminTransferRevertsForNonAdmin() public {
        bytes32 adminRole = registry.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                operator,
                adminRole
            )
        );
        vm.prank(operator);
        registry.beginDefaultAdminTransfer(operator);
    }

    function testRoleGrantsRevertForNonAdmin() public {
        bytes32 adminRole = registry.DEFAULT_ADMIN_ROLE();
        bytes32 operatorRole = registry.OPERATOR_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                operator,
                adminRole
            )
        );
        vm.prank(operator);
        registry.grantRole(operatorRole, stranger);
    }

    // ─────────────────────────────────────────── Helpers ──────────────────────────────────────────

    /// @dev Expects the next call to revert for lack of the operator role, pranked as `caller`.
    function _expectNotOperator(address caller) private {
        bytes32 role = registry.OPERATOR_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, caller, role)
        );
        vm.prank(caller);
    }

    function _expectInvalidCurrency(uint16 currency, uint8 exponent) private {
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.InvalidCurrency.selector, currency, exponent));
        vm.prank(operator);
        registry.addCurrency(currency, exponent);
    }

    function _expectDutiesNotSeparated(address account) private {
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.DutiesNotSeparated.selector, account));
    }
}
