import { readFileSync } from "node:fs";

import { expect } from "chai";

import { decodeEmvQr } from "../../src/qr/decodeEmvQr.ts";
import { encodeEmvQr } from "../../src/qr/encodeEmvQr.ts";
import { QrCrcError } from "../../src/qr/errors.ts";
import { inspectEmvQr } from "../../src/qr/inspectEmvQr.ts";
import { toEmvQrInput } from "../../src/qr/toEmvQrInput.ts";

type Vector = {
  name: string;
  scheme: string;
  source: string;
  payload: string;
  expected: { flat: Record<string, string>; warnings: string[] };
};
type InvalidVector = {
  name: string;
  scheme: string;
  source: string;
  payload: string;
  expected: { error: string; tag: string; correctCrc?: string };
};

const vectors = JSON.parse(
  readFileSync(new URL("../vectors/emv-qr-payloads.json", import.meta.url), "utf8"),
) as {
  valid: Vector[];
  invalid: InvalidVector[];
};

/** True if the payload writes its root objects in ascending ID order, "63" last, as the encoder does. */
function inEncoderOrder(payload: string): boolean {
  const ids = decodeEmvQr(payload).dataObjects.map((object) => Number(object.id));
  return ids.slice(0, -1).every((id, index) => index === 0 || (ids[index - 1] ?? 0) < id);
}

describe("published EMV MPM payloads", () => {
  it("has at least 20 valid payloads, each with a source, from at least 8 schemes", () => {
    expect(vectors.valid.length).to.be.at.least(20);
    for (const vector of vectors.valid) expect(vector.source, vector.name).to.match(/\S{10,}/);
    expect(new Set(vectors.valid.map((vector) => vector.scheme)).size).to.be.at.least(8);
  });

  for (const vector of vectors.valid) {
    describe(`${vector.scheme}: ${vector.name}`, () => {
      it("decodes to every expected data object, with the expected warnings", () => {
        const report = inspectEmvQr(vector.payload);
        expect(report.errors).to.deep.equal([]);
        expect(report.valid).to.equal(true);
        expect(report.crcValid).to.equal(true);
        expect(report.flat).to.deep.equal(vector.expected.flat);
        expect(report.warnings.map((warning) => `${warning.code}@${warning.tag ?? ""}`)).to.deep.equal(
          vector.expected.warnings,
        );
      });

      it("gives typed fields that agree with the raw data objects", () => {
        const code = decodeEmvQr(vector.payload);
        const flat = vector.expected.flat;
        expect(code.payloadFormatIndicator).to.equal(flat["00"]);
        expect(code.merchantCategoryCode).to.equal(flat["52"]);
        expect(code.transactionCurrency).to.equal(flat["53"]);
        expect(code.transactionAmount).to.equal(flat["54"]);
        expect(code.countryCode).to.equal(flat["58"]);
        expect(code.merchantName).to.equal(flat["59"]);
        expect(code.merchantCity).to.equal(flat["60"]);
        expect(code.postalCode).to.equal(flat["61"]);
        expect(code.additionalData?.referenceLabel).to.equal(flat["62.05"]);
        expect(code.merchantInformationLanguage?.merchantName).to.equal(flat["64.01"]);
        expect(code.pointOfInitiation).to.equal({ "11": "static", "12": "dynamic" }[flat["01"] ?? ""]);
        expect(code.crc).to.equal(flat["63"]);
        for (const account of code.merchantAccounts) {
          expect(account.value).to.equal(flat[account.id]);
          expect(account.globallyUniqueIdentifier).to.equal(flat[`${account.id}.00`]);
        }
        const accountIds = Object.keys(flat).filter(
          (key) => /^\d\d$/.test(key) && Number(key) >= 2 && Number(key) <= 51,
        );
        expect(code.merchantAccounts.map((account) => account.id).sort()).to.deep.equal(accountIds.sort());
      });

      if (vector.expected.warnings.length === 0 && inEncoderOrder(vector.payload)) {
        it("is reproduced byte for byte by the strict encoder", () => {
          expect(encodeEmvQr(toEmvQrInput(decodeEmvQr(vector.payload)))).to.equal(vector.payload);
        });
      }
    });
  }

  for (const vector of vectors.invalid) {
    it(`refuses ${vector.scheme}: ${vector.name} with ${vector.expected.error}`, () => {
      expect(() => decodeEmvQr(vector.payload))
        .to.throw(QrCrcError)
        .that.includes({ code: vector.expected.error, tag: vector.expected.tag });
      if (vector.expected.correctCrc !== undefined) {
        const repaired = vector.payload.slice(0, -4) + vector.expected.correctCrc;
        expect(decodeEmvQr(repaired).crc).to.equal(vector.expected.correctCrc);
      }
    });
  }
});
