import { expect } from "chai";

import { crc16 } from "../../src/qr/crc16.ts";
import { decodeEmvQr } from "../../src/qr/decodeEmvQr.ts";
import { QrCrcError, QrError, QrParseError, QrStructureError } from "../../src/qr/errors.ts";
import { inspectEmvQr } from "../../src/qr/inspectEmvQr.ts";

/** Banco Central do Brasil's static Pix example. */
const PIX =
  "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D";

/** Appends "6304" and the right CRC, so a test breaks exactly one rule. */
function withCrc(body: string): string {
  return `${body}6304${crc16(`${body}6304`)}`;
}

function decodeError(payload: string): QrError {
  try {
    decodeEmvQr(payload);
  } catch (error) {
    expect(error).to.be.instanceOf(QrError);
    return error as QrError;
  }
  expect.fail("expected decodeEmvQr to throw");
}

describe("decodeEmvQr", () => {
  describe("reads", () => {
    it("lengths in characters, not bytes: 0104最佳运输 holds four", () => {
      const code = decodeEmvQr(
        withCrc(
          "000201010211153137210116372101160123456789ABCDE52045812530315658" +
            "02CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京",
        ),
      );
      expect(code.merchantInformationLanguage).to.deep.include({
        merchantName: "最佳运输",
        merchantCity: "北京",
      });
    });

    it("characters outside the BMP as one character each", () => {
      const code = decodeEmvQr(
        withCrc(
          "000201153137210116372101160123456789ABCDE5204581253031565802CN5902AB6002XY64130002ZH0103𠀋𠀋𠀋",
        ),
      );
      expect(code.merchantInformationLanguage?.merchantName).to.equal("𠀋𠀋𠀋");
      expect(code.warnings).to.deep.equal([]);
    });

    it("a lowercase CRC, with a warning", () => {
      const code = decodeEmvQr(PIX.slice(0, -4) + "1d3d");
      expect(code.crc).to.equal("1d3d");
      expect(code.warnings.map((warning) => warning.code)).to.deep.equal(["CRC_LOWERCASE"]);
    });

    it("multi-network payloads: UnionPay primitive 15 next to a 26 template", () => {
      const code = decodeEmvQr(
        "0002010102121531479803444798034459803449399006326450012hk.com.hkicl0209166069526051229123123595952049399530334454042.005802HK5902NA6002HK6293011900-12348A10798425380218001-20200726084100032263ee92126d3fb9ff7bed98041802150821101001445D80560013com.swiftpass0212181570002009041900-12348A10798425386304F335",
      );
      expect(
        code.merchantAccounts.map((account) => [account.id, account.globallyUniqueIdentifier]),
      ).to.deep.equal([
        ["15", undefined],
        ["26", "hk.com.hkicl"],
      ]);
      expect(code.merchantAccounts[0]?.value).to.equal("4798034447980344598034493990063");
      expect(code.unreservedTemplates[0]).to.deep.include({
        id: "80",
        globallyUniqueIdentifier: "com.swiftpass",
      });
    });

    it("reserved IDs, a template without GUI and a payload format indicator other than 01, as warnings", () => {
      const code = decodeEmvQr(
        withCrc(
          "0002021531372101163721011601234567" + "89ABCDE5204581253038405802KH5902AB6002XY6604RFU!81060102xy",
        ),
      );
      expect(code.payloadFormatIndicator).to.equal("02");
      expect(code.reservedForFutureUse).to.deep.equal({ "66": "RFU!" });
      expect(code.warnings.map((warning) => `${warning.code}@${warning.tag ?? ""}`)).to.deep.equal([
        "RFU_ID@66",
        "TEMPLATE_WITHOUT_GUI@81",
        "PAYLOAD_FORMAT_INDICATOR_UNEXPECTED@00",
      ]);
    });

    it("missing 52, 59 and 60, and an invalid amount, as warnings", () => {
      const code = decodeEmvQr(
        withCrc("00020101021229370016A00000067701011101130066812345678530376454050,0015802TH"),
      );
      expect(code.transactionAmount).to.equal("0,001");
      expect(code.warnings.map((warning) => `${warning.code}@${warning.tag ?? ""}`)).to.deep.equal([
        "MISSING_MANDATORY@52",
        "MISSING_MANDATORY@59",
        "MISSING_MANDATORY@60",
        "AMOUNT_INVALID@54",
      ]);
    });
  });

  describe("refuses", () => {
    it("a wrong CRC, naming tag 63 and its position", () => {
      const error = decodeError(PIX.slice(0, -4) + "1D3E");
      expect(error).to.be.instanceOf(QrCrcError);
      expect(error).to.include({ code: "CRC_MISMATCH", tag: "63", position: PIX.length - 8 });
      expect(error.shortMessage).to.equal("CRC (63) does not match the payload: it was damaged or edited.");
      expect(error.details).to.deep.equal([
        "Tag: 63",
        `Position: ${PIX.length - 8}`,
        "Found: 1D3E",
        "Expected: 1D3D",
      ]);
      expect(error.message).to.equal(`${error.shortMessage}\n\n${error.details.join("\n")}`);
    });

    it("an edited payload whose CRC was left alone", () => {
      expect(decodeError(PIX.replace("Fulano", "Fulana"))).to.include({ code: "CRC_MISMATCH" });
    });

    it("a CRC that is not four hex digits", () => {
      expect(decodeError(PIX.slice(0, -4) + "1D3G"))
        .to.be.instanceOf(QrCrcError)
        .and.include({ code: "CRC_MALFORMED" });
      expect(decodeError(`${PIX.slice(0, -8)}63051D3D0`)).to.include({ code: "CRC_MALFORMED", tag: "63" });
    });

    it("a length that runs past the end of the payload", () => {
      const error = decodeError("000201520499");
      expect(error).to.be.instanceOf(QrParseError);
      expect(error).to.include({ code: "TLV_LENGTH_OVERRUN", tag: "52", position: 6 });
    });

    it("a length that runs past the end of its template, as broken nesting", () => {
      // 62 holds "0509***", whose 05 claims nine characters of a seven-character template.
      const error = decodeError(withCrc("000201021012345678905204000053039865802BR5902AB6002XY62070509***"));
      expect(error).to.be.instanceOf(QrParseError);
      expect(error).to.include({ code: "TEMPLATE_BROKEN", tag: "62.05", position: 57 });
      expect((error.cause as QrError).code).to.equal("TLV_LENGTH_OVERRUN");
    });

    it("a merchant account template that is not TLV", () => {
      // 26 holds "0014": a GUI header claiming 14 characters of a template that has none left.
      const error = decodeError(withCrc("00020126040014520400005303986"));
      expect(error).to.include({ code: "TEMPLATE_BROKEN", tag: "26.00", position: 10 });
      expect((error.cause as QrError).code).to.equal("TLV_LENGTH_OVERRUN");
    });

    it("a header that is not two digits and two digits", () => {
      expect(decodeError("0002015X04abcd6304ABCD")).to.include({ code: "TLV_MALFORMED_HEADER", position: 6 });
      expect(decodeError("00020152O40000")).to.include({ code: "TLV_MALFORMED_HEADER", position: 6 });
    });

    it("data that ends inside a header", () => {
      expect(decodeError("00020163"))
        .to.be.instanceOf(QrParseError)
        .and.include({ code: "TLV_TRUNCATED", position: 6 });
    });

    it("an ID that appears twice at the root", () => {
      const error = decodeError(
        withCrc("00020101021102101234567890520400005303986" + "5802BR5902AB5902CD6002XY"),
      );
      expect(error).to.be.instanceOf(QrStructureError);
      expect(error).to.include({ code: "DUPLICATE_ID", tag: "59", position: 53 });
    });

    it("an ID that appears twice inside a template", () => {
      const error = decodeError(
        withCrc("000201021012345678905204000053039865802BR5902AB6002XY62140503abc0503def"),
      );
      expect(error).to.be.instanceOf(QrStructureError).and.include({ code: "DUPLICATE_ID", tag: "62.05" });
    });

    it("a CRC that is not the last object", () => {
      const error = decodeError(`${PIX}6102AB`);
      expect(error).to.be.instanceOf(QrStructureError);
      expect(error).to.include({ code: "CRC_NOT_LAST", tag: "63", position: PIX.length - 8 });
      expect(error.details).to.include("Followed by: 61");
    });

    it("a payload without CRC", () => {
      expect(decodeError(PIX.slice(0, -8))).to.include({ code: "CRC_MISSING", tag: "63" });
    });

    it("a payload that does not start with 00", () => {
      const error = decodeError(withCrc("0102110002015204000053039865802BR5902AB6002XY"));
      expect(error).to.include({ code: "PAYLOAD_FORMAT_INDICATOR_NOT_FIRST", tag: "01", position: 0 });
    });

    it("an empty payload", () => {
      expect(decodeError("")).to.include({ code: "EMPTY_PAYLOAD", position: 0 });
    });

    it("with positions counted in characters when the payload has non-ASCII text", () => {
      // "最佳运输" is four characters but twelve UTF-8 bytes: the overrun header "6099" starts at character 35.
      const error = decodeError("00020152040000530315658" + "02CN5904最佳运输6099");
      expect(error).to.include({ code: "TLV_LENGTH_OVERRUN", tag: "60", position: 35 });
    });
  });
});

describe("inspectEmvQr", () => {
  it("reports a CRC mismatch without losing the content", () => {
    const report = inspectEmvQr(PIX.slice(0, -4) + "0000");
    expect(report.valid).to.equal(false);
    expect(report.crcValid).to.equal(false);
    expect(report.errors).to.deep.equal([
      {
        code: "CRC_MISMATCH",
        message: "CRC (63) does not match the payload: it was damaged or edited.",
        tag: "63",
        position: PIX.length - 8,
      },
    ]);
    expect(report.flat["59"]).to.equal("Fulano de Tal");
    expect(report.flat["26.00"]).to.equal("br.gov.bcb.pix");
  });

  it("judges the CRC even when the structure is broken", () => {
    const report = inspectEmvQr(withCrc("0002015299ABC"));
    expect(report.crcValid).to.equal(true);
    expect(report.valid).to.equal(false);
    expect(report.flat).to.deep.equal({});
    expect(report.errors.map((error) => error.code)).to.deep.equal(["TLV_LENGTH_OVERRUN"]);
  });
});
