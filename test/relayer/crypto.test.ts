import { readFile } from "node:fs/promises";

import { expect } from "chai";
import { encryptKeystoreJson, Wallet } from "ethers";
import { keccak256, parseSignature, stringToHex, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import {
  fxDomain,
  fxPaymentId,
  ledgerDomain,
  ledgerTypes,
  paymentId,
  quoteStructHash,
  rateFromDecimal,
  refundId,
  type FxPayment,
  type FxQuote,
  type Payment,
} from "../../src/protocol/index.ts";
import { decryptKeystore, encryptKeystore } from "../../src/relayer/chain/keystore.ts";
import { signTransaction } from "../../src/relayer/chain/signTransaction.ts";
import { parseEcdsaSignature, type EcdsaSignature } from "../../src/relayer/validation/ecdsa.ts";
import { createKeccak256 } from "../../src/relayer/validation/keccak.ts";
import { createSignerRecovery } from "../../src/relayer/validation/signerRecovery.ts";
import {
  createFxTypedDataHasher,
  createTypedDataHasher,
} from "../../src/relayer/validation/typedDataHasher.ts";

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const domain = ledgerDomain(31337n, "0x5FbDB2315678afecb367f032d93F642f64180aa3");

function randomPayment(payer: Address, i: number): Payment {
  return {
    payer,
    payee: privateKeyToAccount(generatePrivateKey()).address,
    payeeBank: i % 65_536,
    currency: 156,
    amount: BigInt(i) * 10n ** 20n + 1n,
    qrHash: keccak256(stringToHex(`qr ${i}`)),
    nonce: BigInt(i * 7919),
    deadline: 1_700_000_000n + BigInt(i),
  };
}

describe("relayer cryptography", function () {
  describe("typed-data hasher", function () {
    it("computes the protocol's payment and refund ids", async function () {
      const hasher = await createTypedDataHasher(domain);
      for (let i = 0; i < 50; i++) {
        const payment = randomPayment(privateKeyToAccount(generatePrivateKey()).address, i);
        expect(hasher.payment(payment).id).to.equal(paymentId(domain, payment));
        const refund = {
          paymentId: paymentId(domain, payment),
          amount: BigInt(i),
          nonce: BigInt(i),
          deadline: 5n,
        };
        expect(hasher.refund(refund).id).to.equal(refundId(domain, refund));
      }
    });

    it("computes the protocol's quote hashes and cross-currency payment ids", async function () {
      const fx = fxDomain(31337n, "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512");
      const hasher = await createFxTypedDataHasher(fx);
      for (let i = 0; i < 50; i++) {
        const quote: FxQuote = {
          provider: (i * 4099) % 65_536,
          fromCurrency: 156,
          toCurrency: 344 + i,
          rate: rateFromDecimal(`1.${i}085`, 156, 344),
          maxToAmount: BigInt(i) * 10n ** 24n + 7n,
          validFrom: 1_700_000_000n + BigInt(i),
          expiry: 1_700_000_600n + BigInt(i * i),
          quoteId: keccak256(stringToHex(`quote ${i}`)),
        };
        expect(hasher.quote(quote)).to.equal(quoteStructHash(quote));
        const { payer, payee, qrHash, nonce, deadline } = randomPayment(
          privateKeyToAccount(generatePrivateKey()).address,
          i,
        );
        const payment: FxPayment = {
          payer,
          payee,
          payeeBank: i,
          payCurrency: quote.fromCurrency,
          payAmount: BigInt(i) * 10n ** 20n + 3n,
          receiveCurrency: quote.toCurrency,
          receiveAmount: BigInt(i) * 10n ** 19n + 5n,
          quoteHash: quoteStructHash(quote),
          qrHash,
          nonce,
          deadline,
        };
        expect(hasher.payment(payment).id).to.equal(fxPaymentId(fx, payment));
      }
    });

    it("agrees with the shared EIP-712 vectors the contracts are tested against", async function () {
      const file = JSON.parse(await readFile("test/vectors/eip712-payments.json", "utf8")) as {
        domain: { chainId: number; verifyingContract: Address };
        vectors: { payment: Record<string, string | number>; paymentId: Hex }[];
      };
      const hasher = await createTypedDataHasher(
        ledgerDomain(file.domain.chainId, file.domain.verifyingContract),
      );
      for (const vector of file.vectors) {
        const p = vector.payment;
        const payment = {
          ...p,
          payeeBank: Number(p.payeeBank),
          currency: Number(p.currency),
          amount: BigInt(p.amount as string),
          nonce: BigInt(p.nonce as string),
          deadline: BigInt(p.deadline as string),
        } as Payment;
        expect(hasher.payment(payment).id).to.equal(vector.paymentId);
      }
    });
  });

  describe("ECDSA signatures", function () {
    const account = privateKeyToAccount(generatePrivateKey());
    const payment = randomPayment(account.address, 1);
    let signature: Hex;

    before(async function () {
      signature = await account.signTypedData({
        domain,
        types: ledgerTypes,
        primaryType: "Payment",
        message: payment,
      });
    });

    it("reads 65-byte (v 27/28 or 0/1) and 64-byte EIP-2098 signatures alike", function () {
      const full = parseEcdsaSignature(signature) as EcdsaSignature;
      const { r, s, yParity } = parseSignature(signature);
      const compact = `${r}${((BigInt(yParity) << 255n) | BigInt(s)).toString(16).padStart(64, "0")}` as Hex;
      expect(parseEcdsaSignature(compact)).to.deep.equal(full);
      expect(parseEcdsaSignature(`${signature.slice(0, 130)}0${yParity}` as Hex)).to.deep.equal(full);
    });

    it("refuses the high-s twin of a valid signature, odd lengths and bad recovery bytes", function () {
      const { r, s, yParity } = parseSignature(signature);
      const twinS = SECP256K1_N - BigInt(s);
      const twin = `${r}${twinS.toString(16).padStart(64, "0")}${(28 - yParity).toString(16)}` as Hex;
      expect(parseEcdsaSignature(twin)).to.deep.equal({ problem: "highS" });
      expect(parseEcdsaSignature(`${signature}00` as Hex)).to.deep.equal({ problem: "length" });
      expect(parseEcdsaSignature(`${signature.slice(0, 130)}1d` as Hex)).to.deep.equal({
        problem: "recoveryId",
      });
    });

    for (const workers of [0, 1]) {
      it(`recovers signers ${workers === 0 ? "on the main thread" : "on a worker thread"}, as viem does`, async function () {
        const recovery = await createSignerRecovery(workers);
        const hasher = await createTypedDataHasher(domain);
        try {
          const signers = Array.from({ length: 20 }, () => privateKeyToAccount(generatePrivateKey()));
          const jobs = await Promise.all(
            signers.map(async (signer, i) => {
              const p = randomPayment(signer.address, i);
              const sig = await signer.signTypedData({
                domain,
                types: ledgerTypes,
                primaryType: "Payment",
                message: p,
              });
              return recovery.recover(hasher.payment(p).digest, parseEcdsaSignature(sig) as EcdsaSignature);
            }),
          );
          expect(jobs).to.deep.equal(signers.map((signer) => signer.address.toLowerCase()));
          const bogus = parseEcdsaSignature(`0x${"00".repeat(64)}1b`) as EcdsaSignature;
          expect(await recovery.recover(hasher.payment(payment).digest, bogus)).to.equal(undefined);
        } finally {
          await recovery.close();
        }
      });
    }
  });

  describe("transaction signing", function () {
    it("produces exactly viem's bytes and hash for EIP-1559 and legacy transactions", async function () {
      const keccak = await createKeccak256();
      for (const data of [
        "0x",
        "0x05",
        "0x80",
        `0x${"ab".repeat(55)}`,
        `0x${"ab".repeat(70_000)}`,
      ] as Hex[]) {
        for (const nonce of [0, 127, 128, 65_536]) {
          const key = generatePrivateKey();
          const account = privateKeyToAccount(key);
          const base = { chainId: 31337, nonce, to: account.address, data, gas: 1_000_000n };
          const privateKey = Buffer.from(key.slice(2), "hex");
          const typed = signTransaction(keccak, privateKey, {
            ...base,
            fees: { type: "eip1559", maxFeePerGas: 3n * 10n ** 9n, maxPriorityFeePerGas: 0n },
          });
          const viemTyped = await account.signTransaction({
            ...base,
            type: "eip1559",
            maxFeePerGas: 3n * 10n ** 9n,
            maxPriorityFeePerGas: 0n,
          });
          expect(typed).to.deep.equal({ raw: viemTyped, hash: keccak256(viemTyped) });
          const legacy = signTransaction(keccak, privateKey, {
            ...base,
            fees: { type: "legacy", gasPrice: 0n },
          });
          const viemLegacy = await account.signTransaction({ ...base, type: "legacy", gasPrice: 0n });
          expect(legacy).to.deep.equal({ raw: viemLegacy, hash: keccak256(viemLegacy) });
        }
      }
    });
  });

  describe("keystores", function () {
    it("round-trips a key, and refuses a wrong password", function () {
      const key = generatePrivateKey();
      const json = encryptKeystore(key, "correct horse", 1_024);
      expect(decryptKeystore(json, "correct horse")).to.equal(key);
      expect(JSON.parse(json)).to.have.property(
        "address",
        privateKeyToAccount(key).address.slice(2).toLowerCase(),
      );
      expect(() => decryptKeystore(json, "wrong"))
        .to.throw()
        .with.property("code", "KEYSTORE_WRONG_PASSWORD");
      expect(() => decryptKeystore("{}", "x"))
        .to.throw()
        .with.property("code", "KEYSTORE_INVALID");
    });

    it("opens keystores written by ethers, an independent implementation", async function () {
      const wallet = Wallet.createRandom();
      const json = await encryptKeystoreJson(
        { address: wallet.address, privateKey: wallet.privateKey },
        "pass phrase",
        {
          scrypt: { N: 1 << 10 },
        },
      );
      expect(decryptKeystore(json, "pass phrase")).to.equal(wallet.privateKey);
    });
  });
});
