import { expect } from "chai";

import { crc16 } from "../../src/qr/crc16.ts";
import { decodeEmvQr } from "../../src/qr/decodeEmvQr.ts";
import { decodeQrSettleRequest } from "../../src/qr/decodeQrSettleRequest.ts";
import { encodeQrSettleRequest } from "../../src/qr/encodeQrSettleRequest.ts";
import { QrEncodeError, QrError, QrRequestError } from "../../src/qr/errors.ts";
import { QRSETTLE_GUI, type QrSettleRequest } from "../../src/qr/qrSettleRequest.ts";

const LEDGER = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
const PAYEE = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";

const DYNAMIC: QrSettleRequest = {
  chainId: 31337n,
  ledger: LEDGER,
  payeeBank: 2,
  payee: PAYEE,
  currency: 344,
  amount: "88.50",
  reference: "INV-2024-0042",
  expiry: 1767225600n,
  merchantName: "Golden Dragon Tea",
  merchantCity: "Hong Kong",
  countryCode: "HK",
  mcc: "5812",
  pointOfInitiation: "dynamic",
};

const STATIC: QrSettleRequest = {
  chainId: 1n,
  ledger: LEDGER,
  payeeBank: 65535,
  payee: PAYEE,
  currency: 392,
  merchantName: "Sushi Dai",
  merchantCity: "Tokyo",
  countryCode: "JP",
  mcc: "5812",
  pointOfInitiation: "static",
};

function withCrc(body: string): string {
  return `${body}6304${crc16(`${body}6304`)}`;
}

function settleError(run: () => unknown): QrRequestError {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(QrRequestError);
    return error as QrRequestError;
  }
  expect.fail("expected a QrRequestError");
}

describe("QRSettle requests", () => {
  it("encode into two io.qrsettle templates, the reference in 62.05", () => {
    const payload = encodeQrSettleRequest(DYNAMIC);
    const code = decodeEmvQr(payload);
    expect(code.warnings).to.deep.equal([]);
    expect(
      code.unreservedTemplates.map(({ id, globallyUniqueIdentifier, fields }) => ({
        id,
        globallyUniqueIdentifier,
        fields,
      })),
    ).to.deep.equal([
      { id: "80", globallyUniqueIdentifier: QRSETTLE_GUI, fields: { "01": "31337", "02": LEDGER.slice(2) } },
      {
        id: "81",
        globallyUniqueIdentifier: QRSETTLE_GUI,
        fields: { "03": "2", "04": PAYEE.slice(2), "05": "1767225600" },
      },
    ]);
    expect(code.additionalData?.referenceLabel).to.equal("INV-2024-0042");
    // Without other networks, 26 carries QRSettle's GUI so the payload has the merchant account EMV requires.
    expect(code.merchantAccounts).to.deep.equal([
      { id: "26", value: "0011io.qrsettle", globallyUniqueIdentifier: QRSETTLE_GUI, fields: {} },
    ]);
    expect(payload).to.contain("010212").and.contain("540588.50").and.contain("5303344");
  });

  it("round-trip, dynamic and static", () => {
    expect(decodeQrSettleRequest(encodeQrSettleRequest(DYNAMIC))).to.deep.equal(DYNAMIC);
    expect(decodeQrSettleRequest(encodeQrSettleRequest(STATIC))).to.deep.equal(STATIC);
  });

  it("fit the largest values into two 99-character templates", () => {
    const largest: QrSettleRequest = {
      ...DYNAMIC,
      chainId: 10n ** 36n - 1n,
      payeeBank: 65535,
      expiry: 2n ** 64n - 1n,
    };
    const code = decodeEmvQr(encodeQrSettleRequest(largest));
    expect(code.unreservedTemplates.map((template) => template.value.length)).to.deep.equal([99, 92]);
    expect(decodeQrSettleRequest(encodeQrSettleRequest(largest))).to.deep.equal(largest);
    expect(() => encodeQrSettleRequest({ ...largest, chainId: 10n ** 36n })).to.throw(QrRequestError);
  });

  it("carry other networks' accounts alongside, and move out of the way of their templates", () => {
    const payload = encodeQrSettleRequest(
      { ...DYNAMIC, currency: 986, amount: "10.00", countryCode: "BR", merchantCity: "BRASILIA" },
      {
        merchantAccounts: [
          { id: "15", value: "4798034447980344598034493990063" },
          {
            id: "26",
            globallyUniqueIdentifier: "br.gov.bcb.pix",
            fields: { "01": "123e4567-e12b-12d1-a456-426655440000" },
          },
        ],
        unreservedTemplates: [
          {
            id: "80",
            globallyUniqueIdentifier: "br.gov.bcb.pix",
            fields: { "25": "pix.example.com/rec/2353c790" },
          },
        ],
        additionalData: { storeLabel: "Loja 1" },
      },
    );
    const code = decodeEmvQr(payload);
    expect(code.merchantAccounts.map((account) => account.id)).to.deep.equal(["15", "26"]);
    expect(
      code.unreservedTemplates.map((template) => [template.id, template.globallyUniqueIdentifier]),
    ).to.deep.equal([
      ["80", "br.gov.bcb.pix"],
      ["81", QRSETTLE_GUI],
      ["82", QRSETTLE_GUI],
    ]);
    expect(code.additionalData).to.deep.include({ storeLabel: "Loja 1", referenceLabel: "INV-2024-0042" });
    expect(decodeQrSettleRequest(payload)).to.deep.include({ currency: 986, amount: "10.00", payee: PAYEE });
  });

  it("carry a Chinese merchant name in template 64", () => {
    const request: QrSettleRequest = {
      ...DYNAMIC,
      alternateLanguage: { languagePreference: "ZH", merchantName: "金龍茶館", merchantCity: "香港" },
    };
    const payload = encodeQrSettleRequest(request);
    expect(payload).to.contain("64200002ZH0104金龍茶館0202香港");
    expect(decodeQrSettleRequest(payload)).to.deep.equal(request);
  });

  it("accept addresses in any case and hand them back in lowercase", () => {
    const checksummed = { ...DYNAMIC, payee: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as const };
    expect(decodeQrSettleRequest(encodeQrSettleRequest(checksummed)).payee).to.equal(PAYEE);
  });

  describe("decoding refuses", () => {
    it("a payload without QRSettle templates, such as a Pix code", () => {
      const pix =
        "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D";
      expect(settleError(() => decodeQrSettleRequest(pix)).code).to.equal("QRSETTLE_TEMPLATE_MISSING");
    });

    it("a missing sub-tag, naming it", () => {
      const payload = withCrc(
        "00020101021126150011io.qrsettle520458125303344540588.505802HK5902AB6002XY" +
          "80240011io.qrsettle010531337" +
          "81640011io.qrsettle0301204" +
          "4070997970c51812dc3a010c7d01b50e0d17dc79c8",
      );
      expect(settleError(() => decodeQrSettleRequest(payload))).to.include({
        code: "QRSETTLE_FIELD_MISSING",
        tag: "io.qrsettle.02",
      });
    });

    it("a malformed address", () => {
      const payload = encodeQrSettleRequest(DYNAMIC).replace(LEDGER.slice(2), "zz" + LEDGER.slice(4));
      const fixed = withCrc(payload.slice(0, -8));
      expect(settleError(() => decodeQrSettleRequest(fixed))).to.include({
        code: "QRSETTLE_FIELD_INVALID",
        tag: "80.02",
      });
    });

    it("a sub-tag in both templates", () => {
      const payload = withCrc(
        "00020101021126150011io.qrsettle520458125303344540588.505802HK5902AB6002XY" +
          "80240011io.qrsettle010531337" +
          "81240011io.qrsettle010531337",
      );
      expect(settleError(() => decodeQrSettleRequest(payload))).to.include({
        code: "QRSETTLE_FIELD_DUPLICATED",
        tag: "81.01",
      });
    });

    it("an unknown currency", () => {
      const payload = withCrc(encodeQrSettleRequest(DYNAMIC).slice(0, -8).replace("5303344", "5303999"));
      expect(settleError(() => decodeQrSettleRequest(payload))).to.include({
        code: "QRSETTLE_CURRENCY_UNKNOWN",
        tag: "53",
      });
    });

    it("an amount with more decimals than the currency", () => {
      const body = encodeQrSettleRequest(STATIC).slice(0, -8);
      const payload = withCrc(body.replace("5303392", "530339254041.50").replace("010211", "010212"));
      const error = settleError(() => decodeQrSettleRequest(payload));
      expect(error).to.include({ code: "QRSETTLE_AMOUNT_INVALID", tag: "54" });
      expect((error.cause as { code: string }).code).to.equal("AMOUNT_TOO_MANY_DECIMALS");
    });

    it("a static code with an amount", () => {
      const payload = withCrc(encodeQrSettleRequest(DYNAMIC).slice(0, -8).replace("010212", "010211"));
      expect(settleError(() => decodeQrSettleRequest(payload))).to.include({
        code: "QRSETTLE_FIELD_INVALID",
        tag: "54",
      });
    });

    it("an expired code, when given the time", () => {
      const payload = encodeQrSettleRequest(DYNAMIC);
      expect(decodeQrSettleRequest(payload, { now: 1767225600n }).expiry).to.equal(1767225600n);
      expect(settleError(() => decodeQrSettleRequest(payload, { now: 1767225601n }))).to.include({
        code: "QRSETTLE_EXPIRED",
        tag: "81.05",
      });
    });

    it("a payload that is not valid EMV, with the EMV error", () => {
      const payload = encodeQrSettleRequest(DYNAMIC);
      expect(() => decodeQrSettleRequest(payload.slice(0, -1) + "0"))
        .to.throw(QrError)
        .with.property("code", "CRC_MISMATCH");
    });
  });

  describe("encoding refuses", () => {
    const refusals: [string, QrSettleRequest, string, string | undefined][] = [
      ["chain id 0", { ...DYNAMIC, chainId: 0n }, "QRSETTLE_FIELD_INVALID", "01"],
      ["a payee bank over uint16", { ...DYNAMIC, payeeBank: 65536 }, "QRSETTLE_FIELD_INVALID", "03"],
      ["a short ledger address", { ...DYNAMIC, ledger: "0x1234" }, "QRSETTLE_FIELD_INVALID", "80.02"],
      ["an unknown currency", { ...DYNAMIC, currency: 999 }, "QRSETTLE_CURRENCY_UNKNOWN", "53"],
      ["a static code with an amount", { ...STATIC, amount: "100" }, "QRSETTLE_FIELD_INVALID", "54"],
      [
        "a dynamic code without amount",
        { ...STATIC, pointOfInitiation: "dynamic" },
        "QRSETTLE_FIELD_INVALID",
        "54",
      ],
      [
        "yen with decimals",
        { ...STATIC, pointOfInitiation: "dynamic", amount: "100.5" },
        "QRSETTLE_AMOUNT_INVALID",
        "54",
      ],
      ["a zero amount", { ...DYNAMIC, amount: "0.00" }, "QRSETTLE_FIELD_INVALID", "54"],
      ["the prompt reference ***", { ...DYNAMIC, reference: "***" }, "QRSETTLE_FIELD_INVALID", "62.05"],
      ["an expiry beyond uint64", { ...DYNAMIC, expiry: 2n ** 64n }, "QRSETTLE_FIELD_INVALID", "05"],
    ];
    for (const [what, request, code, tag] of refusals) {
      it(`${what} with ${code}`, () => {
        expect(settleError(() => encodeQrSettleRequest(request))).to.include({ code, tag });
      });
    }

    it("EMV rules, with the EMV error", () => {
      expect(() => encodeQrSettleRequest({ ...DYNAMIC, merchantName: "金龍茶館" }))
        .to.throw(QrEncodeError)
        .that.includes({ code: "VALUE_FORMAT", tag: "59" });
      expect(() => encodeQrSettleRequest({ ...DYNAMIC, reference: "R".repeat(26) }))
        .to.throw(QrEncodeError)
        .that.includes({ code: "VALUE_TOO_LONG", tag: "62.05" });
    });

    it("when the merchant's templates leave fewer than two unreserved IDs", () => {
      const taken = Array.from({ length: 19 }, (_, index) => ({
        id: String(80 + index),
        globallyUniqueIdentifier: "a.b",
      }));
      expect(settleError(() => encodeQrSettleRequest(DYNAMIC, { unreservedTemplates: taken })).code).to.equal(
        "QRSETTLE_NO_FREE_TEMPLATE_ID",
      );
    });
  });
});
