import { expect } from "chai";
import fc from "fast-check";
import { keccak256, parseSignature, toBytes, toHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import {
  recoverPublicKey,
  recoverWithNative,
  recoverWithWasm,
  SECP256K1_BACKEND,
  type RecoverPublicKey,
} from "../../src/crypto/secp256k1.ts";

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const word = (value: bigint) => toBytes(value, { size: 32 });
const rsOf = (r: bigint, s: bigint) => new Uint8Array([...word(r), ...word(s)]);
/** The address of an uncompressed public key, as Ethereum derives it. */
const addressOf = (publicKey: Uint8Array) => `0x${keccak256(publicKey.subarray(1)).slice(-40)}`;

describe("secp256k1 public-key recovery", function () {
  it("uses the native libsecp256k1 binding on this platform (linux-x64, glibc)", function () {
    // The package ships this prebuilt binding; without it every payment's check costs four times the CPU.
    if (process.platform === "linux" && process.arch === "x64") {
      expect(recoverWithNative, "native binding").to.not.equal(undefined);
      if (process.env.QRSETTLE_SECP256K1 !== "wasm") expect(SECP256K1_BACKEND).to.equal("native");
    }
    expect(recoverPublicKey).to.equal(SECP256K1_BACKEND === "native" ? recoverWithNative : recoverWithWasm);
  });

  const builds: [string, RecoverPublicKey | undefined][] = [
    ["native", recoverWithNative],
    ["WebAssembly", recoverWithWasm],
  ];
  for (const [name, recover] of builds) {
    it(`recovers the signer of any digest with the ${name} build, as viem computes it`, async function () {
      if (recover === undefined) this.skip();
      await fc.assert(
        fc.asyncProperty(
          fc.bigInt({ min: 1n, max: N - 1n }),
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          async (key, digest) => {
            const account = privateKeyToAccount(toHex(key, { size: 32 }));
            const signature = parseSignature(await account.sign({ hash: toHex(digest) }));
            const publicKey = recover(
              digest,
              rsOf(BigInt(signature.r), BigInt(signature.s)),
              signature.yParity as 0 | 1,
            );
            expect(publicKey && addressOf(publicKey)).to.equal(account.address.toLowerCase());
          },
        ),
        { numRuns: 100 },
      );
    });
  }

  it("gives the same answer from both builds for arbitrary bytes, valid or not", function () {
    if (recoverWithNative === undefined) this.skip();
    const native = recoverWithNative;
    const edge = fc.constantFrom(0n, 1n, N - 1n, N, N + 1n, 2n ** 256n - 1n);
    const scalar = fc.oneof(edge, fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }));
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        scalar,
        scalar,
        fc.constantFrom<0 | 1>(0, 1),
        (digest, r, s, recoveryId) => {
          const rs = rsOf(r, s);
          const hex = (key: Uint8Array | undefined): Hex | undefined => (key ? toHex(key) : undefined);
          const expected = hex(recoverWithWasm(digest, rs, recoveryId));
          expect(hex(native(digest, rs, recoveryId))).to.equal(expected);
          // Zero or out-of-range scalars are no signature at all.
          if (r === 0n || s === 0n || r >= N || s >= N) expect(expected).to.equal(undefined);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
