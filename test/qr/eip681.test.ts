import { expect } from "chai";

import { decodeQrSettleRequest } from "../../src/qr/decodeQrSettleRequest.ts";
import { encodeQrSettleRequest } from "../../src/qr/encodeQrSettleRequest.ts";
import { Eip681Error } from "../../src/qr/errors.ts";
import { parseEip681Uri } from "../../src/qr/parseEip681Uri.ts";
import type { QrSettlePaymentTarget, QrSettleRequest } from "../../src/qr/qrSettleRequest.ts";
import { toEip681Uri } from "../../src/qr/toEip681Uri.ts";

const LEDGER = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
const PAYEE = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
const BASE_URI = `ethereum:pay-${LEDGER}@31337/payQr?uint16=2&address=${PAYEE}&uint16=344`;

const TARGET: QrSettlePaymentTarget = {
  chainId: 31337n,
  ledger: LEDGER,
  payeeBank: 2,
  payee: PAYEE,
  currency: 344,
  amount: "88.50",
  reference: "INV 2024/42 #7",
  expiry: 1767225600n,
};

function uriError(uri: string): Eip681Error {
  try {
    parseEip681Uri(uri);
  } catch (error) {
    expect(error).to.be.instanceOf(Eip681Error);
    return error as Eip681Error;
  }
  expect.fail(`expected ${uri} to be refused`);
}

describe("EIP-681 URIs", () => {
  it("target the ledger on its chain, with payQr's typed parameters in order", () => {
    expect(toEip681Uri(TARGET)).to.equal(
      `${BASE_URI}&uint256=8850&string=INV%202024%2F42%20%237&uint64=1767225600`,
    );
  });

  it("round-trip, with and without the optional parameters", () => {
    expect(parseEip681Uri(toEip681Uri(TARGET))).to.deep.equal(TARGET);
    const bare: QrSettlePaymentTarget = {
      chainId: 1n,
      ledger: LEDGER,
      payeeBank: 0,
      payee: PAYEE,
      currency: 392,
    };
    expect(parseEip681Uri(toEip681Uri(bare))).to.deep.equal(bare);
    const expiryOnly = { ...bare, expiry: 5n };
    expect(toEip681Uri(expiryOnly)).to.equal(
      `ethereum:pay-${LEDGER}@1/payQr?uint16=0&address=${PAYEE}&uint16=392&uint64=5`,
    );
    expect(parseEip681Uri(toEip681Uri(expiryOnly))).to.deep.equal(expiryOnly);
  });

  it("carry the same request as the EMV payload", () => {
    const request: QrSettleRequest = {
      ...TARGET,
      reference: "INV-2024-0042",
      merchantName: "Golden Dragon Tea",
      merchantCity: "Hong Kong",
      countryCode: "HK",
      mcc: "5812",
      pointOfInitiation: "dynamic",
    };
    const decoded = decodeQrSettleRequest(encodeQrSettleRequest(request));
    const target: QrSettlePaymentTarget = {
      chainId: decoded.chainId,
      ledger: decoded.ledger,
      payeeBank: decoded.payeeBank,
      payee: decoded.payee,
      currency: decoded.currency,
      ...(decoded.amount === undefined ? {} : { amount: decoded.amount }),
      ...(decoded.reference === undefined ? {} : { reference: decoded.reference }),
      ...(decoded.expiry === undefined ? {} : { expiry: decoded.expiry }),
    };
    expect(parseEip681Uri(toEip681Uri(request))).to.deep.equal(target);
  });

  it("give amounts in minor units, read back with the currency's decimals", () => {
    expect(
      toEip681Uri({ ...TARGET, currency: 48, amount: "1.5", reference: undefined, expiry: undefined }),
    ).to.contain("uint16=48&uint256=1500");
    expect(parseEip681Uri(`${BASE_URI.replace("uint16=344", "uint16=48")}&uint256=1500`).amount).to.equal(
      "1.500",
    );
    expect(parseEip681Uri(`${BASE_URI.replace("uint16=344", "uint16=392")}&uint256=1500`).amount).to.equal(
      "1500",
    );
  });

  it("accept EIP-681 number forms that are integers, and no pay- prefix", () => {
    expect(parseEip681Uri(`${BASE_URI}&uint256=8.85e3`).amount).to.equal("88.50");
    expect(parseEip681Uri(`${BASE_URI}&uint256=885e1`).amount).to.equal("88.50");
    expect(parseEip681Uri(`${BASE_URI}&uint256=+8850`).amount).to.equal("88.50");
    expect(parseEip681Uri(BASE_URI.replace("pay-", "")).ledger).to.equal(LEDGER);
    expect(
      parseEip681Uri(BASE_URI.replace(LEDGER, LEDGER.toUpperCase().replace("0X", "0x"))).ledger,
    ).to.equal(LEDGER);
  });

  const refusals: [string, string, Eip681Error["code"]][] = [
    ["another scheme", "bitcoin:1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "EIP681_SCHEME"],
    ["an ENS name as target", BASE_URI.replace(LEDGER, "ledger.eth"), "EIP681_TARGET"],
    ["no chain id", BASE_URI.replace("@31337", ""), "EIP681_CHAIN_ID"],
    ["chain id 0", BASE_URI.replace("@31337", "@0"), "EIP681_CHAIN_ID"],
    ["another function", BASE_URI.replace("/payQr", "/transfer"), "EIP681_FUNCTION"],
    ["a plain ether transfer", `ethereum:${LEDGER}@1?value=1e18`, "EIP681_FUNCTION"],
    [
      "parameters out of order",
      `ethereum:${LEDGER}@1/payQr?address=${PAYEE}&uint16=2&uint16=344`,
      "EIP681_PARAMETER",
    ],
    ["a value parameter", `${BASE_URI}&value=1`, "EIP681_PARAMETER"],
    ["a repeated optional parameter", `${BASE_URI}&uint256=1&uint256=2`, "EIP681_PARAMETER"],
    ["a missing currency", `ethereum:${LEDGER}@1/payQr?uint16=2&address=${PAYEE}`, "EIP681_PARAMETER"],
    ["an unknown currency", BASE_URI.replace("uint16=344", "uint16=999"), "EIP681_PARAMETER"],
    ["a fractional amount", `${BASE_URI}&uint256=1.5`, "EIP681_NUMBER"],
    ["a negative amount", `${BASE_URI}&uint256=-5`, "EIP681_NUMBER"],
    ["a zero amount", `${BASE_URI}&uint256=0`, "EIP681_PARAMETER"],
    ["an amount beyond 96 bits", `${BASE_URI}&uint256=1e30`, "EIP681_NUMBER"],
    ["a hostile exponent", `${BASE_URI}&uint256=1e999999999`, "EIP681_NUMBER"],
    ["a payee bank over uint16", BASE_URI.replace("uint16=2", "uint16=65536"), "EIP681_NUMBER"],
    ["a broken payee", BASE_URI.replace(PAYEE, "0x1234"), "EIP681_PARAMETER"],
    ["broken percent-encoding", `${BASE_URI}&string=%E0%A4%A`, "EIP681_PARAMETER"],
  ];
  for (const [what, uri, code] of refusals) {
    it(`refuse ${what} with ${code}`, () => {
      expect(uriError(uri).code).to.equal(code);
    });
  }

  it("refuse to write what they cannot carry", () => {
    expect(() => toEip681Uri({ ...TARGET, currency: 999 }))
      .to.throw(Eip681Error)
      .with.property("code", "EIP681_PARAMETER");
    expect(() => toEip681Uri({ ...TARGET, amount: "1.234" }))
      .to.throw(Eip681Error)
      .with.property("code", "EIP681_PARAMETER");
    expect(() => toEip681Uri({ ...TARGET, ledger: "0x12" }))
      .to.throw(Eip681Error)
      .with.property("code", "EIP681_TARGET");
    expect(() => toEip681Uri({ ...TARGET, chainId: 0n }))
      .to.throw(Eip681Error)
      .with.property("code", "EIP681_CHAIN_ID");
  });
});
