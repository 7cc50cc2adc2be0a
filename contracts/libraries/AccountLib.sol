// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @notice One customer account in one currency, packed into a single storage word so that settling a
/// payment reads and writes exactly one slot for the payer (as FiatToken v2.2 packs its blacklist flag):
///
///   bits   0– 95  balance (minor units)
///   bits  96–159  nonce bitmap: bit i set ⇔ nonce `base + i` used
///   bits 160–207  nonce base: every nonce below it is used or cancelled
///   bits 208–223  bank id the account belongs to (0: not open)
///   bit  224      frozen
///   bit  225      has a daily limit (its state lives in a separate slot, read only when set)
///
/// Nonces are unordered within a 64-wide window starting at `base`, so a relayer may land a payer's payments
/// in any order; the window slides past every used nonce at its start. Bit 0 is always clear at rest.
type Account is uint256;

using AccountLib for Account global;

library AccountLib {
    uint256 internal constant WINDOW = 64;
    /// @notice Largest usable nonce. Keeping nonces below 2^47 keeps the window start within its 48 bits
    /// however the window slides, so it can never spill into the bank id.
    uint256 internal constant MAX_NONCE = (1 << 47) - 1;
    /// @notice Highest window start an account may move to by invalidating nonces (every nonce then used).
    uint256 internal constant MAX_NONCE_BASE = MAX_NONCE + 1;

    uint256 private constant BALANCE_MASK = (1 << 96) - 1;
    uint256 private constant BITMAP_SHIFT = 96;
    uint256 private constant BITMAP_MASK = (1 << 64) - 1;
    uint256 private constant BASE_SHIFT = 160;
    uint256 private constant BASE_MASK = (1 << 48) - 1;
    uint256 private constant BANK_SHIFT = 208;
    uint256 private constant BANK_MASK = 0xffff;
    uint256 private constant FROZEN_BIT = 1 << 224;
    uint256 private constant LIMITED_BIT = 1 << 225;

    /// @notice Result of trying to use a nonce.
    enum NonceCheck {
        Ok,
        Used,
        OutOfWindow
    }

    function balance(Account a) internal pure returns (uint256) {
        return Account.unwrap(a) & BALANCE_MASK;
    }

    function bank(Account a) internal pure returns (uint16) {
        return uint16(Account.unwrap(a) >> BANK_SHIFT);
    }

    function isFrozen(Account a) internal pure returns (bool) {
        return Account.unwrap(a) & FROZEN_BIT != 0;
    }

    function isLimited(Account a) internal pure returns (bool) {
        return Account.unwrap(a) & LIMITED_BIT != 0;
    }

    function nonceBase(Account a) internal pure returns (uint48) {
        return uint48(Account.unwrap(a) >> BASE_SHIFT);
    }

    function nonceBitmap(Account a) internal pure returns (uint64) {
        return uint64(Account.unwrap(a) >> BITMAP_SHIFT);
    }

    /// @dev Callers guarantee `newBalance` fits 96 bits: currency totals are capped at 2^96 - 1 on issuance,
    /// and no single balance can exceed its currency's total.
    function withBalance(Account a, uint256 newBalance) internal pure returns (Account) {
        return Account.wrap((Account.unwrap(a) & ~BALANCE_MASK) | newBalance);
    }

    function withBank(Account a, uint16 bankId) internal pure returns (Account) {
        return
            Account.wrap((Account.unwrap(a) & ~(BANK_MASK << BANK_SHIFT)) | (uint256(bankId) << BANK_SHIFT));
    }

    function withFrozen(Account a, bool frozen) internal pure returns (Account) {
        uint256 w = Account.unwrap(a);
        return Account.wrap(frozen ? w | FROZEN_BIT : w & ~FROZEN_BIT);
    }

    function withLimited(Account a, bool limited) internal pure returns (Account) {
        uint256 w = Account.unwrap(a);
        return Account.wrap(limited ? w | LIMITED_BIT : w & ~LIMITED_BIT);
    }

    /// @notice Whether `nonce` can no longer be used (used, cancelled, below the window or above `MAX_NONCE`).
    function isNonceUsed(Account a, uint256 nonce) internal pure returns (bool) {
        uint256 base = a.nonceBase();
        if (nonce < base || nonce > MAX_NONCE) return true;
        uint256 offset = nonce - base;
        return offset < WINDOW && (a.nonceBitmap() >> offset) & 1 == 1;
    }

    /// @notice Marks `nonce` used and slides the window past the used nonces at its start.
    /// @return updated The account with the nonce used (unchanged unless `check` is Ok).
    /// @return check Ok, or why the nonce cannot be used.
    function useNonce(Account a, uint256 nonce) internal pure returns (Account updated, NonceCheck check) {
        uint256 base = a.nonceBase();
        if (nonce < base) return (a, NonceCheck.Used);
        uint256 offset = nonce - base;
        if (offset >= WINDOW || nonce > MAX_NONCE) return (a, NonceCheck.OutOfWindow);
        uint256 bitmap = a.nonceBitmap();
        uint256 bit = 1 << offset;
        if (bitmap & bit != 0) return (a, NonceCheck.Used);
        return (_withWindow(a, base, bitmap | bit), NonceCheck.Ok);
    }

    /// @notice Moves the window start to `newBase` (at most `MAX_NONCE_BASE`), invalidating every nonce below
    /// it. No-op if not ahead.
    function advanceNonceBase(Account a, uint256 newBase) internal pure returns (Account) {
        uint256 base = a.nonceBase();
        if (newBase <= base) return a;
        uint256 shift = newBase - base;
        uint256 bitmap = shift >= WINDOW ? 0 : a.nonceBitmap() >> shift;
        return _withWindow(a, newBase, bitmap);
    }

    /// @dev Stores `base` and `bitmap`, first sliding the window past the run of used nonces at its start.
    function _withWindow(Account a, uint256 base, uint256 bitmap) private pure returns (Account) {
        if (bitmap & 1 == 1) {
            // Lowest clear bit isolated; its index is the length of the run of used nonces at the start.
            uint256 run = Math.log2(~bitmap & (bitmap + 1));
            bitmap >>= run;
            base += run;
        }
        // A base beyond 48 bits would take 2^48 payments from one account; treat as unreachable.
        uint256 w = Account.unwrap(a) & ~((BITMAP_MASK << BITMAP_SHIFT) | (BASE_MASK << BASE_SHIFT));
        return Account.wrap(w | (bitmap << BITMAP_SHIFT) | (base << BASE_SHIFT));
    }
}
