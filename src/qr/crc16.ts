/**
 * CRC-16/CCITT-FALSE lookup table (polynomial 0x1021, MSB first): one table lookup per byte instead of eight
 * shift-and-xor steps, which is most of what makes decoding fast.
 */
const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[byte] = crc & 0xffff;
  }
  return table;
})();

const encoder = new TextEncoder();

function update(crc: number, byte: number): number {
  return ((crc << 8) ^ (TABLE[((crc >> 8) ^ byte) & 0xff] ?? 0)) & 0xffff;
}

/**
 * CRC-16/CCITT-FALSE (ISO/IEC 13239: polynomial 0x1021, initial value 0xFFFF, no reflection, no final xor)
 * over the UTF-8 bytes of `text`, as four uppercase hex digits. EMV MPM tag 63 holds this checksum of
 * everything before its value, including the "6304" header itself.
 *
 * @example
 * crc16("123456789") // "29B1", the algorithm's check value
 * crc16(payload.slice(0, -4)) === payload.slice(-4).toUpperCase() // a payload's CRC is valid
 */
export function crc16(text: string): string {
  let crc = 0xffff;
  // ASCII characters are their own UTF-8 bytes, so the common case needs no byte array.
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit >= 0x80) {
      crc = 0xffff;
      for (const byte of encoder.encode(text)) crc = update(crc, byte);
      break;
    }
    crc = update(crc, unit);
  }
  return crc.toString(16).toUpperCase().padStart(4, "0");
}
