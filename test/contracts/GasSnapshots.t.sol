// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Payment} from "../../contracts/interfaces/ISettlementLedger.sol";
import {BatchEncoder, SignedPayment} from "./utils/BatchEncoder.sol";
import {LedgerTest} from "./utils/LedgerTest.sol";

/// @notice Execution gas of `settlePayments`, recorded in `snapshots/` and checked by `npm test`
/// (`hardhat test solidity --snapshot-check`). Names say the storage state: returning payers (their account
/// slot is already written), merchants spread over banks B and C, every payment cross-bank.
/// Full-transaction figures (with the 21,000 base and calldata) come from `npm run bench:gas`.
contract GasSnapshotsTest is LedgerTest {
    uint256 private constant PAYERS = 200;
    uint256 private constant MERCHANTS = 50;

    Person[] private payers;
    Person[] private merchants;
    uint16[] private merchantBanks;

    function setUp() public override {
        super.setUp();
        for (uint256 i; i < MERCHANTS; ++i) {
            Person memory m = _person(string.concat("merchant", vm.toString(i)));
            uint16 bank = i % 2 == 0 ? bankB : bankC;
            vm.prank(bank == bankB ? adminB : adminC);
            ledger.openAccount(m.addr, CNY);
            merchants.push(m);
            merchantBanks.push(bank);
        }
        vm.startPrank(adminA);
        for (uint256 i; i < PAYERS; ++i) {
            Person memory p = _person(string.concat("payer", vm.toString(i)));
            ledger.issueDeposits(p.addr, CNY, OPENING_BALANCE);
            payers.push(p);
        }
        vm.stopPrank();
        // Every payer and merchant settles once first, so the measured batches see returning accounts.
        _settle(relayerA, _batch(PAYERS, 0));
    }

    function testGasSettleBatch1ReturningCrossBank() public {
        _measure("settlePayments_batch1_returningPayers_crossBank", 1);
    }

    function testGasSettleBatch10ReturningCrossBank() public {
        _measure("settlePayments_batch10_returningPayers_crossBank", 10);
    }

    function testGasSettleBatch50ReturningCrossBank() public {
        _measure("settlePayments_batch50_returningPayers_crossBank", 50);
    }

    function testGasSettleBatch200ReturningCrossBank() public {
        _measure("settlePayments_batch200_returningPayers_crossBank", 200);
    }

    function _measure(string memory name, uint256 size) private {
        (bytes memory payees, bytes memory items) = BatchEncoder.encode(_batch(size, 1));
        vm.prank(relayerA);
        vm.startSnapshotGas("ledger", name);
        (uint256 settled, ) = ledger.settlePayments(CNY, payees, items);
        uint256 gasUsed = vm.stopSnapshotGas();
        assertEq(settled, size);
        vm.snapshotValue("ledger", string.concat(name, "_perPayment"), gasUsed / size);
    }

    function _batch(uint256 size, uint256 nonce) private view returns (SignedPayment[] memory batch) {
        batch = new SignedPayment[](size);
        for (uint256 i; i < size; ++i) {
            Person memory payer = payers[i];
            uint256 m = i % MERCHANTS;
            Payment memory p = _payment(payer, merchants[m], merchantBanks[m], 12_34 + i, nonce);
            batch[i] = _signed(p, payer.key);
        }
    }
}
