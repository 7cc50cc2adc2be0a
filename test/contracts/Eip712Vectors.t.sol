// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {stdJson} from "forge-std/StdJson.sol";
import {Test} from "forge-std/Test.sol";

import {Payment, Refund} from "../../contracts/interfaces/ISettlementLedger.sol";
import {PaymentHashLib} from "../../contracts/libraries/PaymentHashLib.sol";
import {SignatureLib} from "../../contracts/libraries/SignatureLib.sol";
import {eip712DomainSeparator, paymentStructHash} from "./utils/PaymentHash.sol";

/// @notice The contracts' EIP-712 hashing and signature checks agree with test/vectors/eip712-payments.json,
/// which the TypeScript tests check against ethers and viem.
contract Eip712VectorsTest is Test {
    using stdJson for string;

    string private json;

    function setUp() public {
        json = vm.readFile("test/vectors/eip712-payments.json");
    }

    function testPaymentStructHashesAndIdsMatchVectors() public view {
        for (uint256 i; i < 2; ++i) {
            string memory at = string.concat(".vectors[", vm.toString(i), "]");
            Payment memory p = _payment(at);
            bytes32 structHash = paymentStructHash(p);
            assertEq(structHash, json.readBytes32(string.concat(at, ".structHash")), "struct hash");
            bytes32 id = MessageHashUtils.toTypedDataHash(_domainSeparator(), structHash);
            assertEq(id, json.readBytes32(string.concat(at, ".paymentId")), "payment id");
        }
    }

    function testPaymentSignaturesRecoverTheSignerInBothForms() public view {
        address signer = json.readAddress(".signer");
        for (uint256 i; i < 2; ++i) {
            string memory at = string.concat(".vectors[", vm.toString(i), "]");
            bytes32 id = json.readBytes32(string.concat(at, ".paymentId"));
            assertEq(ECDSA.recover(id, json.readBytes(string.concat(at, ".signature"))), signer, "65-byte");
            bytes memory compact = json.readBytes(string.concat(at, ".compactSignature"));
            (bytes32 r, bytes32 vs) = abi.decode(compact, (bytes32, bytes32));
            assertEq(SignatureLib.recoverCompact(id, r, vs), signer, "EIP-2098 compact");
        }
    }

    function testRefundIdsAndSignaturesMatchVectors() public view {
        address signer = json.readAddress(".signer");
        for (uint256 i; i < 2; ++i) {
            string memory at = string.concat(".vectors[", vm.toString(i), "].refund");
            Refund memory refund = Refund({
                paymentId: json.readBytes32(string.concat(at, ".paymentId")),
                amount: vm.parseUint(json.readString(string.concat(at, ".amount"))),
                nonce: vm.parseUint(json.readString(string.concat(at, ".nonce"))),
                deadline: vm.parseUint(json.readString(string.concat(at, ".deadline")))
            });
            bytes32 id = MessageHashUtils.toTypedDataHash(_domainSeparator(), PaymentHashLib.hash(refund));
            string memory vector = string.concat(".vectors[", vm.toString(i), "]");
            assertEq(id, json.readBytes32(string.concat(vector, ".refundId")), "refund id");
            assertEq(ECDSA.recover(id, json.readBytes(string.concat(vector, ".refundSignature"))), signer);
        }
    }

    function _payment(string memory at) private view returns (Payment memory) {
        string memory p = string.concat(at, ".payment");
        return
            Payment({
                payer: json.readAddress(string.concat(p, ".payer")),
                payee: json.readAddress(string.concat(p, ".payee")),
                payeeBank: uint16(json.readUint(string.concat(p, ".payeeBank"))),
                currency: uint16(json.readUint(string.concat(p, ".currency"))),
                amount: vm.parseUint(json.readString(string.concat(p, ".amount"))),
                qrHash: json.readBytes32(string.concat(p, ".qrHash")),
                nonce: vm.parseUint(json.readString(string.concat(p, ".nonce"))),
                deadline: vm.parseUint(json.readString(string.concat(p, ".deadline")))
            });
    }

    /// @dev The domain separator of the vectors' ledger (its name, version, chain id and address).
    function _domainSeparator() private view returns (bytes32) {
        return
            eip712DomainSeparator(
                json.readString(".domain.name"),
                json.readString(".domain.version"),
                json.readUint(".domain.chainId"),
                json.readAddress(".domain.verifyingContract")
            );
    }
}
