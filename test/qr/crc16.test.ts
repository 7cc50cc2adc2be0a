import { expect } from "chai";

import { crc16 } from "../../src/qr/crc16.ts";

describe("crc16", () => {
  it("gives CRC-16/CCITT-FALSE's check value for 123456789", () => {
    expect(crc16("123456789")).to.equal("29B1");
  });

  it("covers everything before the value, including the literal 6304", () => {
    const payload =
      "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D";
    expect(crc16(payload.slice(0, -4))).to.equal("1D3D");
    expect(crc16(payload.slice(0, -8))).to.not.equal("1D3D");
  });

  it("runs over UTF-8 bytes, not UTF-16 units", () => {
    // The EMVCo example carries Chinese text in template 64; its published CRC is A13A.
    const payload =
      "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A";
    expect(crc16(payload.slice(0, -4))).to.equal("A13A");
  });

  it("pads to four uppercase hex digits", () => {
    expect(crc16("")).to.equal("FFFF");
    expect(crc16("0000")).to.match(/^[0-9A-F]{4}$/);
  });
});
