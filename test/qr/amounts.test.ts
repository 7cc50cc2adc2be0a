import { expect } from "chai";
import fc from "fast-check";

import { AmountError, formatAmount, MAX_AMOUNT_UNITS, parseAmount } from "../../src/protocol/amounts.ts";
import {
  currencies,
  formatCurrencyNumeric,
  getCurrency,
  getCurrencyByAlpha,
  getCurrencyByNumeric,
} from "../../src/protocol/currencies.ts";

function expectAmountError(run: () => unknown, code: AmountError["code"]): AmountError {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(AmountError);
    expect((error as AmountError).code).to.equal(code);
    return error as AmountError;
  }
  expect.fail(`expected AmountError ${code}`);
}

describe("parseAmount", () => {
  it("accepts the three forms EMV allows: 98.73, 98 and 98.", () => {
    expect(parseAmount("98.73", 2)).to.equal(9873n);
    expect(parseAmount("98", 2)).to.equal(9800n);
    expect(parseAmount("98.", 2)).to.equal(9800n);
    expect(parseAmount("98.7", 2)).to.equal(9870n);
  });

  it("converts by the currency exponent: JPY 0, BHD 3, CLF 4", () => {
    expect(parseAmount("1500", 0)).to.equal(1500n);
    expect(parseAmount("1.005", 3)).to.equal(1005n);
    expect(parseAmount("0.0001", 4)).to.equal(1n);
  });

  it("keeps precision no float could: 0.1 + 0.2 and 9007199254740993", () => {
    expect(parseAmount("0.1", 2) + parseAmount("0.2", 2)).to.equal(parseAmount("0.3", 2));
    expect(parseAmount("9007199254740993", 0)).to.equal(9007199254740993n);
  });

  it("refuses more decimals than the currency has", () => {
    const error = expectAmountError(() => parseAmount("1.234", 2), "AMOUNT_TOO_MANY_DECIMALS");
    expect(error.shortMessage).to.equal("Amount has 3 decimals; the currency allows 2.");
    expect(error.details).to.deep.equal(["Amount: 1.234", "Exponent: 2"]);
    expect(error.message).to.contain("Amount: 1.234");
    expectAmountError(() => parseAmount("5.0", 0), "AMOUNT_TOO_MANY_DECIMALS");
  });

  it("refuses negative, empty and non-numeric input", () => {
    expectAmountError(() => parseAmount("-1", 2), "AMOUNT_NEGATIVE");
    expectAmountError(() => parseAmount("", 2), "AMOUNT_EMPTY");
    for (const text of ["98,73", "3 705", "1e3", ".5", "+1", " 1", "1.2.3", "abc", "0x10", "١٢"]) {
      expectAmountError(() => parseAmount(text, 2), "AMOUNT_NOT_NUMERIC");
    }
  });

  it("refuses amounts beyond the ledger's 96-bit balances", () => {
    expect(parseAmount(MAX_AMOUNT_UNITS.toString(), 0)).to.equal(MAX_AMOUNT_UNITS);
    expectAmountError(() => parseAmount((MAX_AMOUNT_UNITS + 1n).toString(), 0), "AMOUNT_OVERFLOW");
    expectAmountError(() => parseAmount("792281625142643375935439504", 2), "AMOUNT_OVERFLOW");
  });

  it("refuses exponents outside 0-18", () => {
    expectAmountError(() => parseAmount("1", -1), "AMOUNT_INVALID_EXPONENT");
    expectAmountError(() => parseAmount("1", 2.5), "AMOUNT_INVALID_EXPONENT");
    expectAmountError(() => formatAmount(1n, 19), "AMOUNT_INVALID_EXPONENT");
  });
});

describe("formatAmount", () => {
  it("writes exactly `exponent` decimals", () => {
    expect(formatAmount(9873n, 2)).to.equal("98.73");
    expect(formatAmount(5n, 3)).to.equal("0.005");
    expect(formatAmount(0n, 2)).to.equal("0.00");
    expect(formatAmount(1500n, 0)).to.equal("1500");
    expect(formatAmount(123456n, 4)).to.equal("12.3456");
  });

  it("refuses negative and over-wide amounts", () => {
    expectAmountError(() => formatAmount(-1n, 2), "AMOUNT_NEGATIVE");
    expectAmountError(() => formatAmount(MAX_AMOUNT_UNITS + 1n, 2), "AMOUNT_OVERFLOW");
  });

  it("round-trips every 96-bit amount for exponents 0 to 4", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: MAX_AMOUNT_UNITS }),
        fc.integer({ min: 0, max: 4 }),
        (units, exponent) => {
          expect(parseAmount(formatAmount(units, exponent), exponent)).to.equal(units);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("round-trips decimal strings in canonical form", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: 4 })
          .chain((exponent) =>
            fc.tuple(
              fc.constant(exponent),
              fc.stringMatching(/^[1-9][0-9]{0,20}$/),
              fc.stringMatching(new RegExp(`^[0-9]{${exponent}}$`)),
            ),
          ),
        ([exponent, integerPart, fractionPart]) => {
          const text = exponent === 0 ? integerPart : `${integerPart}.${fractionPart}`;
          expect(formatAmount(parseAmount(text, exponent), exponent)).to.equal(text);
        },
      ),
    );
  });
});

describe("currencies", () => {
  it("has the exponents that are not 2", () => {
    const expected: Record<string, [number, number]> = {
      JPY: [392, 0],
      KRW: [410, 0],
      VND: [704, 0],
      BHD: [48, 3],
      KWD: [414, 3],
      JOD: [400, 3],
      OMR: [512, 3],
      TND: [788, 3],
      CLF: [990, 4],
    };
    for (const [alpha, [numeric, exponent]] of Object.entries(expected)) {
      expect(getCurrencyByAlpha(alpha), alpha).to.include({ numeric, exponent });
    }
  });

  it("has every currency the QR schemes and the brief name", () => {
    const required =
      "USD CNY BRL THB SGD HKD VND IDR MYR INR KHR LAK EUR GBP CHF AUD CAD NZD AED SAR PHP MOP TWD NPR PKR BDT LKR MXN ZAR NGN KES TRY RUB";
    for (const alpha of required.split(" ")) expect(getCurrencyByAlpha(alpha), alpha).to.not.equal(undefined);
    expect(getCurrencyByNumeric("986")?.alpha).to.equal("BRL");
    expect(getCurrencyByNumeric(156)?.alpha).to.equal("CNY");
    expect(getCurrencyByNumeric("344")?.exponent).to.equal(2);
  });

  it("has unique codes", () => {
    expect(new Set(currencies.map((currency) => currency.numeric)).size).to.equal(currencies.length);
    expect(new Set(currencies.map((currency) => currency.alpha)).size).to.equal(currencies.length);
  });

  it("looks up by either code, and pads numeric codes to three digits", () => {
    expect(getCurrency("sgd")?.numeric).to.equal(702);
    expect(getCurrency("036")?.alpha).to.equal("AUD");
    expect(getCurrency("XXX")).to.equal(undefined);
    expect(getCurrencyByNumeric("1234")).to.equal(undefined);
    expect(formatCurrencyNumeric(36)).to.equal("036");
    expect(formatCurrencyNumeric(48)).to.equal("048");
  });
});
