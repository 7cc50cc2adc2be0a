// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

/// @notice Lifecycle of a participating bank.
enum BankStatus {
    None,
    Active,
    Suspended
}

/// @notice Registry entry of a bank.
struct BankInfo {
    BankStatus status;
    address admin;
    bytes11 bic;
    string name;
}

/// @notice Operator-set caps for one bank in one currency.
/// @param debitCap How far below zero the bank's reserves may go intraday to settle its customers' payments.
/// @param maxPayment Largest single payment the bank's customers may make; 0 means no cap.
struct BankLimits {
    uint96 debitCap;
    uint96 maxPayment;
}

/// @notice A currency the network settles.
/// @param listed Whether the operator has added the currency.
/// @param enabled Whether payments and issuance in this currency are accepted.
/// @param exponent ISO 4217 minor-unit exponent (JPY 0, USD 2, BHD 3); informative for clients.
struct CurrencyConfig {
    bool listed;
    bool enabled;
    uint8 exponent;
}

/// @title QRSettle bank registry
/// @notice Who takes part and on which terms: currencies, banks, their admin and relayer keys, their caps, the
/// network's roles and its global pause. The settlement ledger reads it; it holds no money.
interface IBankRegistry is IAccessControl {
    // ─────────────────────────────────────────── Events ───────────────────────────────────────────

    /// @notice Emitted when the operator adds a currency.
    event CurrencyAdded(uint16 indexed currency, uint8 exponent);
    /// @notice Emitted when a currency is enabled or disabled.
    event CurrencyStatusChanged(uint16 indexed currency, bool enabled);
    /// @notice Emitted when the operator registers a bank.
    event BankRegistered(uint16 indexed bankId, bytes11 bic, string name, address admin);
    /// @notice Emitted when a bank is suspended or resumed.
    event BankStatusChanged(uint16 indexed bankId, BankStatus status);
    /// @notice Emitted when a bank's admin key is replaced.
    event BankAdminChanged(uint16 indexed bankId, address indexed previousAdmin, address indexed newAdmin);
    /// @notice Emitted when a bank adds or removes one of its relayers.
    event RelayerSet(uint16 indexed bankId, address indexed relayer, bool enabled);
    /// @notice Emitted when the operator sets a bank's caps in a currency.
    event BankLimitsSet(uint16 indexed bankId, uint16 indexed currency, uint96 debitCap, uint96 maxPayment);

    // ─────────────────────────────────────────── Errors ───────────────────────────────────────────

    /// @notice Thrown when the caller is not an enabled relayer of the bank concerned.
    error UnauthorizedRelayer(address caller);
    /// @notice Thrown when the caller is not the admin of a bank.
    error NotBankAdmin(address caller);
    /// @notice Thrown when a bank id does not exist.
    error UnknownBank(uint16 bankId);
    /// @notice Thrown when an operation needs an active bank and the bank is suspended.
    error BankNotActive(uint16 bankId);
    /// @notice Thrown when a status change is not to Active or Suspended.
    error InvalidBankStatus(BankStatus status);
    /// @notice Thrown when a currency is unknown or disabled.
    error CurrencyNotSupported(uint16 currency);
    /// @notice Thrown when adding a currency that exists, or with a code or exponent outside ISO 4217.
    error InvalidCurrency(uint16 currency, uint8 exponent);
    /// @notice Thrown when one address would both issue money and settle, or hold two bank duties.
    error DutiesNotSeparated(address account);
    /// @notice Thrown when an address argument is zero.
    error ZeroAddress();
    /// @notice Thrown when all 65,535 bank ids are taken.
    error TooManyBanks();

    // ─────────────────────────────────────────── Operator ─────────────────────────────────────────

    /// @notice Adds a currency, enabled. Operator only.
    /// @param currency ISO 4217 numeric code, 1–999.
    /// @param exponent Minor-unit exponent, 0–4.
    function addCurrency(uint16 currency, uint8 exponent) external;

    /// @notice Enables or disables a listed currency for payments and issuance. Operator only.
    function setCurrencyEnabled(uint16 currency, bool enabled) external;

    /// @notice Registers an active bank. Operator only.
    /// @return bankId The new bank's id, counting from 1.
    function registerBank(bytes11 bic, string calldata name, address admin) external returns (uint16 bankId);

    /// @notice Suspends or resumes a bank. Operator only.
    function setBankStatus(uint16 bankId, BankStatus status) external;

    /// @notice Replaces a bank's admin key. Operator only.
    function setBankAdmin(uint16 bankId, address newAdmin) external;

    /// @notice Sets a bank's intraday debit cap and single-payment cap in a currency. Operator only.
    function setBankLimits(uint16 bankId, uint16 currency, uint96 debitCap, uint96 maxPayment) external;

    /// @notice Stops every payment, refund, issuance and redemption on the ledger. Pauser only.
    function pause() external;

    /// @notice Resumes after `pause`. Pauser only.
    function unpause() external;

    // ───────────────────────────────────────── Bank admin ─────────────────────────────────────────

    /// @notice Adds or removes a relayer of the caller's bank.
    function setRelayer(address relayer, bool enabled) external;

    // ─────────────────────────────────────────── Views ────────────────────────────────────────────

    /// @notice The bank a relayer settles for and its caps in `currency`.
    /// @dev Reverts unless `relayer` is enabled for an active bank and `currency` is enabled.
    function relayerTerms(
        address relayer,
        uint16 currency
    ) external view returns (uint16 bankId, BankLimits memory);

    /// @notice The bank an admin acts for.
    /// @dev Reverts unless `admin` administers an active bank and `currency` is enabled.
    function adminTerms(address admin, uint16 currency) external view returns (uint16 bankId);

    /// @notice For each bank id, whether it is registered and active (bit i of the result for `bankIds[i]`).
    function activeBanks(uint16[] calldata bankIds) external view returns (uint256 activeMask);

    /// @notice A bank's status; `None` for an unknown id.
    function bankStatus(uint16 bankId) external view returns (BankStatus);

    /// @notice A bank's registry entry.
    function getBank(uint16 bankId) external view returns (BankInfo memory);

    /// @notice Number of registered banks; ids run from 1 to this.
    function bankCount() external view returns (uint16);

    /// @notice The bank an address relays for, or 0.
    function relayerBank(address relayer) external view returns (uint16);

    /// @notice The bank an address administers, or 0.
    function adminBank(address admin) external view returns (uint16);

    /// @notice A bank's caps in a currency.
    function getBankLimits(uint16 bankId, uint16 currency) external view returns (BankLimits memory);

    /// @notice A currency's settings.
    function getCurrency(uint16 currency) external view returns (CurrencyConfig memory);

    /// @notice Whether the network is paused.
    function paused() external view returns (bool);
}
