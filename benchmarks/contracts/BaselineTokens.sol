// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/// @notice Baseline 1 and 3: an OpenZeppelin ERC-20 with EIP-2612 permit, as a bank deposit token would be.
/// Benchmark-only; never deployed.
contract BaselinePermitToken is ERC20, ERC20Permit {
    constructor() ERC20("Baseline Deposit", "BDEP") ERC20Permit("Baseline Deposit") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

/// @notice Baseline 3's relayer entry point: one transaction per payment doing `permit` then `transferFrom`,
/// the usual way a relayer spends a permit-signed payment.
contract PermitPaymentRelay {
    function pay(
        IERC20Permit token,
        address owner,
        address to,
        uint256 value,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        token.permit(owner, address(this), value, deadline, v, r, s);
        IERC20(address(token)).transferFrom(owner, to, value);
    }
}

/// @notice Baseline 2: ERC-3009 `transferWithAuthorization` as Circle's FiatToken v2.2 implements it —
/// random 32-byte nonces each in their own slot, a validity window, ECDSA or ERC-1271 signatures, and the
/// `AuthorizationUsed` event. Benchmark-only; never deployed.
contract BaselineEip3009Token is ERC20, EIP712 {
    bytes32 public constant TRANSFER_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );

    mapping(address authorizer => mapping(bytes32 nonce => bool used)) public authorizationState;

    event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce);

    error AuthorizationNotYetValid();
    error AuthorizationExpired();
    error AuthorizationUsedOrCanceled();
    error InvalidSignature();

    constructor() ERC20("Baseline USD", "BUSD") EIP712("Baseline USD", "2") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external {
        if (block.timestamp <= validAfter) revert AuthorizationNotYetValid();
        if (block.timestamp >= validBefore) revert AuthorizationExpired();
        if (authorizationState[from][nonce]) revert AuthorizationUsedOrCanceled();
        bytes32 digest = _hashTypedDataV4(
            keccak256(
                abi.encode(
                    TRANSFER_WITH_AUTHORIZATION_TYPEHASH,
                    from,
                    to,
                    value,
                    validAfter,
                    validBefore,
                    nonce
                )
            )
        );
        if (!SignatureChecker.isValidSignatureNow(from, digest, signature)) revert InvalidSignature();
        authorizationState[from][nonce] = true;
        emit AuthorizationUsed(from, nonce);
        _transfer(from, to, value);
    }
}
