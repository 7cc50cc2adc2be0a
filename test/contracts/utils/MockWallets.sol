// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @notice A minimal smart account (ERC-1271) controlled by one owner key, standing in for a customer's
/// smart wallet.
contract OwnedSmartAccount is IERC1271 {
    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    function isValidSignature(bytes32 digest, bytes calldata signature) external view returns (bytes4) {
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, signature);
        return
            err == ECDSA.RecoverError.NoError && signer == owner
                ? IERC1271.isValidSignature.selector
                : bytes4(0);
    }
}

/// @notice A hostile wallet: reverts, or burns all the gas it is given, when asked to validate.
contract HostileWallet is IERC1271 {
    error Refused();

    bool public immutable burnGas;

    constructor(bool burnGas_) {
        burnGas = burnGas_;
    }

    function isValidSignature(bytes32, bytes calldata) external view returns (bytes4) {
        if (burnGas) {
            uint256 spin;
            while (gasleft() > 0) ++spin;
        }
        revert Refused();
    }
}
