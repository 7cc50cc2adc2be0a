// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {Account, AccountLib} from "../../contracts/libraries/AccountLib.sol";

/// @notice Exposes `AccountLib` on raw words so tests can feed it any bit pattern.
contract AccountLibHarness {
    function balance(uint256 w) external pure returns (uint256) {
        return Account.wrap(w).balance();
    }

    function bank(uint256 w) external pure returns (uint16) {
        return Account.wrap(w).bank();
    }

    function isFrozen(uint256 w) external pure returns (bool) {
        return Account.wrap(w).isFrozen();
    }

    function isLimited(uint256 w) external pure returns (bool) {
        return Account.wrap(w).isLimited();
    }

    function nonceBase(uint256 w) external pure returns (uint48) {
        return Account.wrap(w).nonceBase();
    }

    function nonceBitmap(uint256 w) external pure returns (uint64) {
        return Account.wrap(w).nonceBitmap();
    }

    function withBalance(uint256 w, uint256 newBalance) external pure returns (uint256) {
        return Account.unwrap(Account.wrap(w).withBalance(newBalance));
    }

    function withBank(uint256 w, uint16 bankId) external pure returns (uint256) {
        return Account.unwrap(Account.wrap(w).withBank(bankId));
    }

    function withFrozen(uint256 w, bool frozen) external pure returns (uint256) {
        return Account.unwrap(Account.wrap(w).withFrozen(frozen));
    }

    function withLimited(uint256 w, bool limited) external pure returns (uint256) {
        return Account.unwrap(Account.wrap(w).withLimited(limited));
    }

    function isNonceUsed(uint256 w, uint256 nonce) external pure returns (bool) {
        return Account.wrap(w).isNonceUsed(nonce);
    }

    function useNonce(uint256 w, uint256 nonce) external pure returns (uint256, AccountLib.NonceCheck) {
        (Account updated, AccountLib.NonceCheck check) = Account.wrap(w).useNonce(nonce);
        return (Account.unwrap(updated), check);
    }

    function advanceNonceBase(uint256 w, uint256 newBase) external pure returns (uint256) {
        return Account.unwrap(Account.wrap(w).advanceNonceBase(newBase));
    }
}

contract AccountLibTest is Test {
    uint256 internal constant BALANCE_BITS = (1 << 96) - 1;
    uint256 internal constant NONCE_BITS = ((1 << 112) - 1) << 96;
    uint256 internal constant BANK_BITS = uint256(0xffff) << 208;
    uint256 internal constant FROZEN_BIT = 1 << 224;
    uint256 internal constant LIMITED_BIT = 1 << 225;
    uint256 internal constant WINDOW = 64;

    AccountLibHarness internal lib;

    function setUp() public {
        lib = new AccountLibHarness();
    }

    // ─────────────────────────────────────────── Packing ────────────────────────────────────────

    function testFreshAccountReadsEmpty() public view {
        assertEq(lib.balance(0), 0);
        assertEq(lib.bank(0), 0);
        assertFalse(lib.isFrozen(0));
        assertFalse(lib.isLimited(0));
        assertEq(lib.nonceBase(0), 0);
        assertEq(lib.nonceBitmap(0), 0);
    }

    function testFieldsSitAtTheirDocumentedBits() public view {
        uint256 w = 7 | (uint256(0x0b) << 96) | (uint256(9) << 160) | (uint256(3) << 208) | FROZEN_BIT;
        assertEq(lib.balance(w), 7);
        assertEq(lib.nonceBitmap(w), 0x0b);
        assertEq(lib.nonceBase(w), 9);
        assertEq(lib.bank(w), 3);
        assertTrue(lib.isFrozen(w));
        assertFalse(lib.isLimited(w));
        assertTrue(lib.isLimited(w | LIMITED_BIT));
    }

    function testFuzzWithBalanceKeepsOtherFields(uint256 w, uint96 newBalance) public view {
        uint256 updated = lib.withBalance(w, newBalance);
        assertEq(lib.balance(updated), newBalance);
        assertEq(updated & ~BALANCE_BITS, w & ~BALANCE_BITS);
    }

    function testFuzzWithBankKeepsOtherFields(uint256 w, uint16 bankId) public view {
        uint256 updated = lib.withBank(w, bankId);
        assertEq(lib.bank(updated), bankId);
        assertEq(updated & ~BANK_BITS, w & ~BANK_BITS);
    }

    function testFuzzWithFrozenKeepsOtherFields(uint256 w, bool frozen) public view {
        uint256 updated = lib.withFrozen(w, frozen);
        assertEq(lib.isFrozen(updated), frozen);
        assertEq(updated & ~FROZEN_BIT, w & ~FROZEN_BIT);
    }

    function testFuzzWithLimitedKeepsOtherFields(uint256 w, bool limited) public view {
        uint256 updated = lib.withLimited(w, limited);
        assertEq(lib.isLimited(updated), limited);
        assertEq(updated & ~LIMITED_BIT, w & ~LIMITED_BIT);
    }

    function testFuzzAllFieldsRoundTrip(
        uint96 balance,
        uint16 bankId,
        bool frozen,
        bool limited,
        uint256 nonceState
    ) public view {
        uint256 w = lib.withLimited(
            lib.withFrozen(lib.withBank(lib.withBalance(0, balance), bankId), frozen),
            limited
        );
        w |= nonceState & NONCE_BITS;

        assertEq(lib.balance(w), balance);
        assertEq(lib.bank(w), bankId);
        assertEq(lib.isFrozen(w), frozen);
        assertEq(lib.isLimited(w), limited);
        assertEq(lib.nonceBitmap(w), uint64(nonceState >> 96));
        assertEq(lib.nonceBase(w), uint48(nonceState >> 160));

        // Rewriting fields in the opposite order lands on the same word.
        uint256 again = lib.withBalance(
            lib.withBank(lib.withFrozen(lib.withLimited(w, limited), frozen), bankId),
            balance
        );
        assertEq(again, w);
    }

    // ─────────────────────────────────────────── useNonce ───────────────────────────────────────

    function testUseNonceMarksABitInsideTheWindow() public view {
        (uint256 w, AccountLib.NonceCheck check) = lib.useNonce(0, 5);
        assertEq(uint8(check), uint8(AccountLib.NonceCheck.Ok));
        assertEq(lib.nonceBitmap(w), 1 << 5);
        assertEq(lib.nonceBase(w), 0);
        assertTrue(lib.isNonceUsed(w, 5));
        assertFalse(lib.isNonceUsed(w, 4));
    }

    function testUseNonceAtBaseSlidesTheWindow() public view {
        (uint256 w, ) = lib.useNonce(0, 0);
        assertEq(lib.nonceBase(w), 1);
        assertEq(lib.nonceBitmap(w), 0);
        assertTrue(lib.isNonceUsed(w, 0));
    }

    function testUseNonceSlidesPastTheWholeUsedRun() public view {
        uint256 w = _useAll(0, _list3(1, 2, 5));
        assertEq(lib.nonceBase(w), 0);
        (w, ) = lib.useNonce(w, 0);
        assertEq(lib.nonceBase(w), 3, "slides past 0, 1, 2 and stops at the gap");
        assertEq(lib.nonceBitmap(w), 1 << 2, "nonce 5 is now offset 2");
        assertFalse(lib.isNonceUsed(w, 3));
        assertTrue(lib.isNonceUsed(w, 5));
    }

    function testUseNonceFillingTheWholeWindowSlidesByAWindow() public view {
        uint256 w;
        for (uint256 nonce = 1; nonce < WINDOW; ++nonce) (w, ) = lib.useNonce(w, nonce);
        assertEq(lib.nonceBitmap(w), type(uint64).max - 1);
        (w, ) = lib.useNonce(w, 0);
        assertEq(lib.nonceBase(w), WINDOW);
        assertEq(lib.nonceBitmap(w), 0);
    }

    function testUseNonceRejectsAUsedNonce() public view {
        (uint256 w, ) = lib.useNonce(0, 5);
        (uint256 again, AccountLib.NonceCheck check) = lib.useNonce(w, 5);
        assertEq(uint8(check), uint8(AccountLib.NonceCheck.Used));
        assertEq(again, w, "a refused nonce changes nothing");
    }

    function testUseNonceRejectsANonceBelowTheBase() public view {
        uint256 w = lib.advanceNonceBase(0, 10);
        (uint256 again, AccountLib.NonceCheck check) = lib.useNonce(w, 9);
        assertEq(uint8(check), uint8(AccountLib.NonceCheck.Used));
        assertEq(again, w);
    }

    function testUseNonceRejectsANonceBeyondTheWindow() public view {
        uint256 w = lib.advanceNonceBase(0, 10);
        (uint256 again, AccountLib.NonceCheck check) = lib.useNonce(w, 10 + WINDOW);
        assertEq(uint8(check), uint8(AccountLib.NonceCheck.OutOfWindow));
        assertEq(again, w);
        (, check) = lib.useNonce(w, 10 + WINDOW - 1);
        assertEq(uint8(check), uint8(AccountLib.NonceCheck.Ok), "the last nonce of the window is usable");
    }

    function testFuzzUseNonceWindowBoundary(uint256 base, uint256 nonce) public view {
        base = bound(base, 0, AccountLib.MAX_NONCE_BASE);
        nonce = bound(nonce, 0, base + 2 * WINDOW);
        uint256 w = lib.advanceNonceBase(0, base);
        (, AccountLib.NonceCheck check) = lib.useNonce(w, nonce);

        AccountLib.NonceCheck expected =
            nonce < base
                ? AccountLib.NonceCheck.Used
                : nonce >= base + WINDOW
                    ? AccountLib.NonceCheck.OutOfWindow
                    : AccountLib.NonceCheck.Ok;
        assertEq(uint8(check), uint8(expected));
    }

    function testFuzzUseNonceKeepsOtherFields(uint256 w, uint256 nonce) public view {
        // Bit 0 of the bitmap is always clear at rest.
        w &= ~(uint256(1) << 96);
        vm.assume(lib.nonceBase(w) <= AccountLib.MAX_NONCE_BASE);
        nonce = bound(nonce, 0, uint256(lib.nonceBase(w)) + WINDOW);
        (uint256 updated, ) = lib.useNonce(w, nonce);
        assertEq(updated & ~NONCE_BITS, w & ~NONCE_BITS);
    }

    /// @dev The window lets a relayer land a payer's payments in any order: every nonce of any permutation of
    /// 0..n-1 (n up to a window) is accepted exactly once and the window ends just past them.
    function testFuzzAnyPermutationUsesEachNonceOnce(uint256 seed, uint256 n) public view {
        n = bound(n, 1, WINDOW);
        uint256[] memory order = _shuffled(n, seed);

        uint256 w;
        for (uint256 i; i < n; ++i) {
            AccountLib.NonceCheck check;
            (w, check) = lib.useNonce(w, order[i]);
            assertEq(uint8(check), uint8(AccountLib.NonceCheck.Ok));
            for (uint256 j; j <= i; ++j) {
                (, check) = lib.useNonce(w, order[j]);
                assertEq(uint8(check), uint8(AccountLib.NonceCheck.Used));
            }
        }
        assertEq(lib.nonceBase(w), n);
        assertEq(lib.nonceBitmap(w), 0);
    }

    /// @dev Against a plain set of used nonces: the base is the lowest unused nonce, a nonce is refused iff
    /// it is in the set or a window or more above the base, and `isNonceUsed` agrees with the set.
    function testFuzzUseNonceMatchesASetModel(uint256 seed) public view {
        uint256 limit = 2 * WINDOW;
        bool[] memory used = new bool[](limit);
        uint256 lowestUnused;
        uint256 w;
        for (uint256 step; step < 48; ++step) {
            uint256 nonce = uint256(keccak256(abi.encode(seed, step))) % limit;
            (uint256 updated, AccountLib.NonceCheck check) = lib.useNonce(w, nonce);

            if (used[nonce]) {
                assertEq(uint8(check), uint8(AccountLib.NonceCheck.Used));
            } else if (nonce >= lowestUnused + WINDOW) {
                assertEq(uint8(check), uint8(AccountLib.NonceCheck.OutOfWindow));
            } else {
                assertEq(uint8(check), uint8(AccountLib.NonceCheck.Ok));
                used[nonce] = true;
                while (lowestUnused < limit && used[lowestUnused]) ++lowestUnused;
            }
            w = updated;
            assertEq(lib.nonceBase(w), lowestUnused);
            assertEq(lib.nonceBitmap(w) & 1, 0, "bit 0 is clear at rest");
        }
        for (uint256 nonce; nonce < limit; ++nonce) assertEq(lib.isNonceUsed(w, nonce), used[nonce]);
    }

    /// @dev The base is 48 bits wide; sliding it past the top must never spill into the bank id nor wrap
    /// back to 0 and reopen used nonces.
    function testUseNonceAtTopOfRangeNeverTouchesBankOrWraps() public view {
        uint256 w = lib.withBank(lib.advanceNonceBase(0, AccountLib.MAX_NONCE_BASE), 2);
        AccountLib.NonceCheck check;
        for (uint256 i; i <= WINDOW; ++i) {
            (w, check) = lib.useNonce(w, AccountLib.MAX_NONCE_BASE + i);
        }
        assertEq(lib.bank(w), 2, "bank id changed");
        assertGe(lib.nonceBase(w), AccountLib.MAX_NONCE_BASE, "nonce base wrapped");
        assertTrue(lib.isNonceUsed(w, 0), "nonce 0 usable again");
    }

    // ───────────────────────────────────────── advanceNonceBase ─────────────────────────────────

    function testAdvanceNonceBaseInvalidatesBelow() public view {
        uint256 w = lib.advanceNonceBase(0, 10);
        assertEq(lib.nonceBase(w), 10);
        assertEq(lib.nonceBitmap(w), 0);
        assertTrue(lib.isNonceUsed(w, 0));
        assertTrue(lib.isNonceUsed(w, 9));
        assertFalse(lib.isNonceUsed(w, 10));
    }

    function testAdvanceNonceBaseKeepsUsedNoncesAhead() public view {
        uint256 w = _useAll(0, _list3(12, 15, 70 - WINDOW));
        w = lib.advanceNonceBase(w, 10);
        assertEq(lib.nonceBase(w), 10);
        assertEq(lib.nonceBitmap(w), (1 << 2) | (1 << 5));
    }

    function testAdvanceNonceBaseSlidesPastUsedRunAtNewBase() public view {
        uint256 w = _useAll(0, _list3(10, 11, 13));
        w = lib.advanceNonceBase(w, 10);
        assertEq(lib.nonceBase(w), 12);
        assertEq(lib.nonceBitmap(w), 1 << 1);
    }

    function testAdvanceNonceBaseByAWindowOrMoreClearsTheBitmap() public view {
        uint256 w = _useAll(0, _list3(5, 30, 63));
        w = lib.advanceNonceBase(w, WINDOW);
        assertEq(lib.nonceBase(w), WINDOW);
        assertEq(lib.nonceBitmap(w), 0);
    }

    function testAdvanceNonceBaseNotAheadIsANoOp() public view {
        uint256 w = lib.advanceNonceBase(_useAll(0, _list3(12, 15, 20)), 10);
        assertEq(lib.advanceNonceBase(w, 10), w);
        assertEq(lib.advanceNonceBase(w, 3), w);
    }

    function testFuzzAdvanceNonceBase(uint256 w, uint256 newBase) public view {
        w &= ~(uint256(1) << 96);
        uint256 base = lib.nonceBase(w);
        vm.assume(base <= AccountLib.MAX_NONCE_BASE);
        newBase = bound(newBase, 0, AccountLib.MAX_NONCE_BASE);
        uint256 updated = lib.advanceNonceBase(w, newBase);

        assertEq(updated & ~NONCE_BITS, w & ~NONCE_BITS, "other fields kept");
        assertGe(lib.nonceBase(updated), base > newBase ? base : newBase);
        if (newBase > 0) assertTrue(lib.isNonceUsed(updated, newBase - 1));
        for (uint256 i; i < 8; ++i) {
            uint256 nonce = newBase + i * 9;
            if (lib.isNonceUsed(w, nonce)) assertTrue(lib.isNonceUsed(updated, nonce), "used stays used");
        }
    }

    // ─────────────────────────────────────────── Helpers ──────────────────────────────────────────

    function _useAll(uint256 w, uint256[] memory nonces) private view returns (uint256) {
        for (uint256 i; i < nonces.length; ++i) {
            AccountLib.NonceCheck check;
            (w, check) = lib.useNonce(w, nonces[i]);
            assertEq(uint8(check), uint8(AccountLib.NonceCheck.Ok));
        }
        return w;
    }

    function _list3(uint256 a, uint256 b, uint256 c) private pure returns (uint256[] memory list) {
        list = new uint256[](3);
        list[0] = a;
        list[1] = b;
        list[2] = c;
    }

    /// @dev Fisher–Yates shuffle of 0..n-1 driven by `seed`.
    function _shuffled(uint256 n, uint256 seed) private pure returns (uint256[] memory order) {
        order = new uint256[](n);
        for (uint256 i; i < n; ++i) order[i] = i;
        for (uint256 i = n - 1; i > 0; --i) {
            uint256 j = uint256(keccak256(abi.encode(seed, i))) % (i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
    }
}
