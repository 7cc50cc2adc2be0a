/**
 * ISO 4217 currencies: numeric code (what EMV QR tag 53 and the ledger carry), alphabetic code (what people
 * read) and minor-unit exponent (how many decimals an amount may have). The table holds every currency the
 * QR schemes we read use plus the ones whose exponent is not 2, because those are where amount bugs hide.
 */
export type Currency = {
  /** ISO 4217 numeric code, e.g. 986 for BRL. */
  readonly numeric: number;
  /** ISO 4217 alphabetic code, e.g. "BRL". */
  readonly alpha: string;
  /** Number of decimal places of the minor unit, e.g. 2 for BRL (centavos), 0 for JPY, 3 for BHD. */
  readonly exponent: number;
  /** English name, for messages and CLI output. */
  readonly name: string;
};

const table = [
  [784, "AED", 2, "UAE Dirham"],
  [971, "AFN", 2, "Afghani"],
  [8, "ALL", 2, "Lek"],
  [51, "AMD", 2, "Armenian Dram"],
  [32, "ARS", 2, "Argentine Peso"],
  [36, "AUD", 2, "Australian Dollar"],
  [944, "AZN", 2, "Azerbaijan Manat"],
  [50, "BDT", 2, "Taka"],
  [975, "BGN", 2, "Bulgarian Lev"],
  [48, "BHD", 3, "Bahraini Dinar"],
  [108, "BIF", 0, "Burundi Franc"],
  [96, "BND", 2, "Brunei Dollar"],
  [986, "BRL", 2, "Brazilian Real"],
  [64, "BTN", 2, "Ngultrum"],
  [124, "CAD", 2, "Canadian Dollar"],
  [756, "CHF", 2, "Swiss Franc"],
  [990, "CLF", 4, "Unidad de Fomento"],
  [152, "CLP", 0, "Chilean Peso"],
  [156, "CNY", 2, "Yuan Renminbi"],
  [170, "COP", 2, "Colombian Peso"],
  [203, "CZK", 2, "Czech Koruna"],
  [262, "DJF", 0, "Djibouti Franc"],
  [208, "DKK", 2, "Danish Krone"],
  [818, "EGP", 2, "Egyptian Pound"],
  [978, "EUR", 2, "Euro"],
  [826, "GBP", 2, "Pound Sterling"],
  [981, "GEL", 2, "Lari"],
  [936, "GHS", 2, "Ghana Cedi"],
  [324, "GNF", 0, "Guinean Franc"],
  [344, "HKD", 2, "Hong Kong Dollar"],
  [348, "HUF", 2, "Forint"],
  [360, "IDR", 2, "Rupiah"],
  [376, "ILS", 2, "New Israeli Sheqel"],
  [356, "INR", 2, "Indian Rupee"],
  [368, "IQD", 3, "Iraqi Dinar"],
  [352, "ISK", 0, "Iceland Krona"],
  [400, "JOD", 3, "Jordanian Dinar"],
  [392, "JPY", 0, "Yen"],
  [404, "KES", 2, "Kenyan Shilling"],
  [116, "KHR", 2, "Riel"],
  [174, "KMF", 0, "Comorian Franc"],
  [410, "KRW", 0, "Won"],
  [414, "KWD", 3, "Kuwaiti Dinar"],
  [398, "KZT", 2, "Tenge"],
  [418, "LAK", 2, "Lao Kip"],
  [144, "LKR", 2, "Sri Lanka Rupee"],
  [434, "LYD", 3, "Libyan Dinar"],
  [504, "MAD", 2, "Moroccan Dirham"],
  [104, "MMK", 2, "Kyat"],
  [496, "MNT", 2, "Tugrik"],
  [446, "MOP", 2, "Pataca"],
  [462, "MVR", 2, "Rufiyaa"],
  [484, "MXN", 2, "Mexican Peso"],
  [458, "MYR", 2, "Malaysian Ringgit"],
  [566, "NGN", 2, "Naira"],
  [578, "NOK", 2, "Norwegian Krone"],
  [524, "NPR", 2, "Nepalese Rupee"],
  [554, "NZD", 2, "New Zealand Dollar"],
  [512, "OMR", 3, "Rial Omani"],
  [604, "PEN", 2, "Sol"],
  [608, "PHP", 2, "Philippine Peso"],
  [586, "PKR", 2, "Pakistan Rupee"],
  [985, "PLN", 2, "Zloty"],
  [600, "PYG", 0, "Guarani"],
  [634, "QAR", 2, "Qatari Rial"],
  [946, "RON", 2, "Romanian Leu"],
  [643, "RUB", 2, "Russian Ruble"],
  [646, "RWF", 0, "Rwanda Franc"],
  [682, "SAR", 2, "Saudi Riyal"],
  [752, "SEK", 2, "Swedish Krona"],
  [702, "SGD", 2, "Singapore Dollar"],
  [764, "THB", 2, "Baht"],
  [788, "TND", 3, "Tunisian Dinar"],
  [949, "TRY", 2, "Turkish Lira"],
  [901, "TWD", 2, "New Taiwan Dollar"],
  [834, "TZS", 2, "Tanzanian Shilling"],
  [980, "UAH", 2, "Hryvnia"],
  [800, "UGX", 0, "Uganda Shilling"],
  [840, "USD", 2, "US Dollar"],
  [940, "UYI", 0, "Uruguay Peso en Unidades Indexadas"],
  [858, "UYU", 2, "Peso Uruguayo"],
  [927, "UYW", 4, "Unidad Previsional"],
  [860, "UZS", 2, "Uzbekistan Sum"],
  [704, "VND", 0, "Dong"],
  [548, "VUV", 0, "Vatu"],
  [950, "XAF", 0, "CFA Franc BEAC"],
  [951, "XCD", 2, "East Caribbean Dollar"],
  [952, "XOF", 0, "CFA Franc BCEAO"],
  [953, "XPF", 0, "CFP Franc"],
  [710, "ZAR", 2, "Rand"],
] as const satisfies readonly (readonly [number, string, number, string])[];

/**
 * Every currency QRSettle knows, ordered by alphabetic code.
 *
 * @example
 * currencies.find((currency) => currency.alpha === "JPY")?.exponent // 0
 */
export const currencies: readonly Currency[] = table.map(([numeric, alpha, exponent, name]) => ({
  numeric,
  alpha,
  exponent,
  name,
}));

const byNumeric = new Map(currencies.map((currency) => [currency.numeric, currency]));
const byAlpha = new Map(currencies.map((currency) => [currency.alpha, currency]));

/**
 * Looks a currency up by its ISO 4217 numeric code (a number, or the three-digit string EMV tag 53 holds).
 * Returns `undefined` for codes that are not in the table.
 *
 * @example
 * getCurrencyByNumeric("986")?.alpha // "BRL"
 * getCurrencyByNumeric(392)?.exponent // 0
 */
export function getCurrencyByNumeric(numeric: number | string): Currency | undefined {
  const code = typeof numeric === "string" ? (/^\d{1,3}$/.test(numeric) ? Number(numeric) : NaN) : numeric;
  return byNumeric.get(code);
}

/**
 * Looks a currency up by its ISO 4217 alphabetic code, case-insensitively.
 *
 * @example
 * getCurrencyByAlpha("bhd")?.exponent // 3
 */
export function getCurrencyByAlpha(alpha: string): Currency | undefined {
  return byAlpha.get(alpha.toUpperCase());
}

/**
 * Looks a currency up by either code: "BRL", "986" or 986.
 *
 * @example
 * getCurrency("SGD")?.numeric // 702
 * getCurrency("702")?.alpha // "SGD"
 */
export function getCurrency(code: number | string): Currency | undefined {
  return typeof code === "number" || /^\d+$/.test(code)
    ? getCurrencyByNumeric(code)
    : getCurrencyByAlpha(code);
}

/**
 * Formats an ISO 4217 numeric code the way EMV tag 53 carries it: exactly three digits.
 *
 * @example
 * formatCurrencyNumeric(36) // "036"
 */
export function formatCurrencyNumeric(numeric: number): string {
  return numeric.toString().padStart(3, "0");
}
