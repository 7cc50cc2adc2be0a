// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Payment} from "../../../contracts/interfaces/ISettlementLedger.sol";
import {PaymentHashLib} from "../../../contracts/libraries/PaymentHashLib.sol";

/// @notice EIP-712 struct hash of a payment held in memory, with the ledger's own hashing code. (The library
/// takes calldata structs, as the ledger's batches arrive; a `memory` overload beside it would be ambiguous.)
function paymentStructHash(Payment memory p) pure returns (bytes32) {
    return
        PaymentHashLib.hash(
            p.payer,
            p.payee,
            p.payeeBank,
            p.currency,
            p.amount,
            p.qrHash,
            p.nonce,
            p.deadline
        );
}

/// @notice EIP-712 domain separator of the ledger's domain type (name, version, chain id, verifying contract),
/// rebuilt from its fields as a wallet would, to check a contract's own separator against.
function eip712DomainSeparator(
    string memory name,
    string memory version,
    uint256 chainId,
    address verifyingContract
) pure returns (bytes32) {
    return
        keccak256(
            abi.encode(
                keccak256(
                    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak256(bytes(name)),
                keccak256(bytes(version)),
                chainId,
                verifyingContract
            )
        );
}
