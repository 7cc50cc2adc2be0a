// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {
    BankInfo,
    BankLimits,
    BankStatus,
    CurrencyConfig,
    IBankRegistry
} from "./interfaces/IBankRegistry.sol";

/// @title QRSettle bank registry
/// @notice Currencies, banks and their keys and caps, the network roles and the global pause.
/// @dev Roles, least privilege (OpenZeppelin AccessControl; the default admin changes hands in two steps
/// after a delay):
/// - default admin: grants and revokes the roles below;
/// - operator: currencies, bank registration, status and caps;
/// - settlement agent: issues and redeems reserves on the ledger;
/// - pauser, freezer, enforcer: pause the network, freeze accounts, force moves on the ledger;
/// - FX settlement: the FX module contract, which settles quoted cross-currency payments on the ledger;
/// - per bank, set here: its admin (issues its deposits, manages its relayers) and its relayers (settle).
/// No key both issues money and settles: admins, relayers and settlement agents are pairwise distinct.
contract BankRegistry is IBankRegistry, AccessControlDefaultAdminRules, Pausable {
    /// @notice Registers banks, sets their status and caps, lists currencies.
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    /// @notice Issues and redeems reserves against the banks' off-chain reserves.
    bytes32 public constant SETTLEMENT_AGENT_ROLE = keccak256("SETTLEMENT_AGENT_ROLE");
    /// @notice Pauses and unpauses the network.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Freezes and unfreezes any account.
    bytes32 public constant FREEZER_ROLE = keccak256("FREEZER_ROLE");
    /// @notice Moves deposits without the holder's signature.
    bytes32 public constant ENFORCER_ROLE = keccak256("ENFORCER_ROLE");
    /// @notice Held by the FX module contract: asks the ledger to settle cross-currency payments.
    bytes32 public constant FX_SETTLEMENT_ROLE = keccak256("FX_SETTLEMENT_ROLE");

    struct Bank {
        BankStatus status;
        address admin;
        bytes11 bic;
        string name;
    }

    mapping(uint16 currency => CurrencyConfig) private _currencies;
    mapping(uint16 bankId => Bank) private _banks;
    mapping(uint16 bankId => mapping(uint16 currency => BankLimits)) private _bankLimits;
    mapping(address relayer => uint16 bankId) private _relayerBank;
    mapping(address admin => uint16 bankId) private _adminBank;
    uint16 private _bankCount;

    /// @param admin Holder of the default admin role, which grants every other role.
    /// @param adminTransferDelay Seconds a default-admin handover must wait.
    constructor(
        address admin,
        uint48 adminTransferDelay
    ) AccessControlDefaultAdminRules(adminTransferDelay, admin) {}

    // ─────────────────────────────────────────── Operator ─────────────────────────────────────────

    /// @inheritdoc IBankRegistry
    function addCurrency(uint16 currency, uint8 exponent) external onlyRole(OPERATOR_ROLE) {
        CurrencyConfig storage config = _currencies[currency];
        if (currency == 0 || currency > 999 || exponent > 4 || config.listed) {
            revert InvalidCurrency(currency, exponent);
        }
        _currencies[currency] = CurrencyConfig({listed: true, enabled: true, exponent: exponent});
        emit CurrencyAdded(currency, exponent);
    }

    /// @inheritdoc IBankRegistry
    function setCurrencyEnabled(uint16 currency, bool enabled) external onlyRole(OPERATOR_ROLE) {
        CurrencyConfig storage config = _listedCurrency(currency);
        config.enabled = enabled;
        emit CurrencyStatusChanged(currency, enabled);
    }

    /// @inheritdoc IBankRegistry
    function registerBank(
        bytes11 bic,
        string calldata name,
        address admin
    ) external onlyRole(OPERATOR_ROLE) returns (uint16 bankId) {
        _requireFreeForBankDuty(admin);
        if (_bankCount == type(uint16).max) revert TooManyBanks();
        bankId = ++_bankCount;
        _banks[bankId] = Bank({status: BankStatus.Active, admin: admin, bic: bic, name: name});
        _adminBank[admin] = bankId;
        emit BankRegistered(bankId, bic, name, admin);
    }

    /// @inheritdoc IBankRegistry
    function setBankStatus(uint16 bankId, BankStatus status) external onlyRole(OPERATOR_ROLE) {
        if (status != BankStatus.Active && status != BankStatus.Suspended) revert InvalidBankStatus(status);
        _existingBank(bankId).status = status;
        emit BankStatusChanged(bankId, status);
    }

    /// @inheritdoc IBankRegistry
    function setBankAdmin(uint16 bankId, address newAdmin) external onlyRole(OPERATOR_ROLE) {
        Bank storage bank = _existingBank(bankId);
        _requireFreeForBankDuty(newAdmin);
        address previous = bank.admin;
        delete _adminBank[previous];
        _adminBank[newAdmin] = bankId;
        bank.admin = newAdmin;
        emit BankAdminChanged(bankId, previous, newAdmin);
    }

    /// @inheritdoc IBankRegistry
    function setBankLimits(
        uint16 bankId,
        uint16 currency,
        uint96 debitCap,
        uint96 maxPayment
    ) external onlyRole(OPERATOR_ROLE) {
        _existingBank(bankId);
        _listedCurrency(currency);
        _bankLimits[bankId][currency] = BankLimits({debitCap: debitCap, maxPayment: maxPayment});
        emit BankLimitsSet(bankId, currency, debitCap, maxPayment);
    }

    /// @inheritdoc IBankRegistry
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc IBankRegistry
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ───────────────────────────────────────── Bank admin ─────────────────────────────────────────

    /// @inheritdoc IBankRegistry
    function setRelayer(address relayer, bool enabled) external {
        uint16 bankId = _adminBank[msg.sender];
        if (bankId == 0) revert NotBankAdmin(msg.sender);
        if (enabled) {
            _requireFreeForBankDuty(relayer);
            _relayerBank[relayer] = bankId;
        } else {
            if (_relayerBank[relayer] != bankId) revert UnauthorizedRelayer(relayer);
            delete _relayerBank[relayer];
        }
        emit RelayerSet(bankId, relayer, enabled);
    }

    // ─────────────────────────────────────────── Views ────────────────────────────────────────────

    /// @inheritdoc IBankRegistry
    function relayerTerms(
        address relayer,
        uint16 currency
    ) external view returns (uint16 bankId, BankLimits memory) {
        bankId = _relayerBank[relayer];
        if (bankId == 0) revert UnauthorizedRelayer(relayer);
        _requireActive(bankId);
        _requireEnabled(currency);
        return (bankId, _bankLimits[bankId][currency]);
    }

    /// @inheritdoc IBankRegistry
    function adminTerms(address admin, uint16 currency) external view returns (uint16 bankId) {
        bankId = _adminBank[admin];
        if (bankId == 0) revert NotBankAdmin(admin);
        _requireActive(bankId);
        _requireEnabled(currency);
    }

    /// @inheritdoc IBankRegistry
    function activeBanks(uint16[] calldata bankIds) external view returns (uint256 activeMask) {
        for (uint256 i; i < bankIds.length && i < 256; ++i) {
            if (_banks[bankIds[i]].status == BankStatus.Active) activeMask |= 1 << i;
        }
    }

    /// @inheritdoc IBankRegistry
    function bankStatus(uint16 bankId) external view returns (BankStatus) {
        return _banks[bankId].status;
    }

    /// @inheritdoc IBankRegistry
    function getBank(uint16 bankId) external view returns (BankInfo memory) {
        Bank storage bank = _banks[bankId];
        return BankInfo({status: bank.status, admin: bank.admin, bic: bank.bic, name: bank.name});
    }

    /// @inheritdoc IBankRegistry
    function bankCount() external view returns (uint16) {
        return _bankCount;
    }

    /// @inheritdoc IBankRegistry
    function relayerBank(address relayer) external view returns (uint16) {
        return _relayerBank[relayer];
    }

    /// @inheritdoc IBankRegistry
    function adminBank(address admin) external view returns (uint16) {
        return _adminBank[admin];
    }

    /// @inheritdoc IBankRegistry
    function getBankLimits(uint16 bankId, uint16 currency) external view returns (BankLimits memory) {
        return _bankLimits[bankId][currency];
    }

    /// @inheritdoc IBankRegistry
    function getCurrency(uint16 currency) external view returns (CurrencyConfig memory) {
        return _currencies[currency];
    }

    /// @inheritdoc IBankRegistry
    function paused() public view override(IBankRegistry, Pausable) returns (bool) {
        return super.paused();
    }

    // ─────────────────────────────────────────── Internal ─────────────────────────────────────────

    function _existingBank(uint16 bankId) private view returns (Bank storage bank) {
        bank = _banks[bankId];
        if (bank.status == BankStatus.None) revert UnknownBank(bankId);
    }

    function _requireActive(uint16 bankId) private view {
        if (_banks[bankId].status != BankStatus.Active) revert BankNotActive(bankId);
    }

    function _listedCurrency(uint16 currency) private view returns (CurrencyConfig storage config) {
        config = _currencies[currency];
        if (!config.listed) revert CurrencyNotSupported(currency);
    }

    function _requireEnabled(uint16 currency) private view {
        if (!_currencies[currency].enabled) revert CurrencyNotSupported(currency);
    }

    /// @dev Separation of duties: a key that issues money (settlement agent, bank admin) never settles
    /// (relayer), and one key serves one bank in one capacity.
    function _requireFreeForBankDuty(address account) private view {
        if (account == address(0)) revert ZeroAddress();
        if (
            _adminBank[account] != 0 || _relayerBank[account] != 0 || hasRole(SETTLEMENT_AGENT_ROLE, account)
        ) {
            revert DutiesNotSeparated(account);
        }
    }

    /// @dev Keeps the settlement agent apart from every bank key, whichever is assigned first.
    function _grantRole(bytes32 role, address account) internal override returns (bool) {
        if (role == SETTLEMENT_AGENT_ROLE && (_adminBank[account] != 0 || _relayerBank[account] != 0)) {
            revert DutiesNotSeparated(account);
        }
        return super._grantRole(role, account);
    }
}
