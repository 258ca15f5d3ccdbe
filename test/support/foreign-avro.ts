/**
 * Avro binary written by hand, as another language's library writes it (zigzag varints, length-prefixed strings),
 * so that tests feed the runtime bytes its own serde did not make.
 */
export function avroLong(value: bigint): Buffer {
  let n = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  const bytes: number[] = [];
  do {
    bytes.push(Number(n & 0x7fn) | (n > 0x7fn ? 0x80 : 0));
    n >>= 7n;
  } while (n > 0n);
  return Buffer.from(bytes);
}

export const avroString = (text: string): Buffer =>
  Buffer.concat([avroLong(BigInt(Buffer.byteLength(text))), Buffer.from(text)]);
