/**
 * Avro types as Sluice reads and writes them. An Avro `long` is a 64-bit integer, and other languages' producers
 * use all of it (a Java `Long.MAX_VALUE`, a Python `2**62`); a JavaScript number holds integers exactly only up to
 * 2^53 − 1, so every `long` is a `bigint` (logical types such as `timestamp-millis` included). Every valid value
 * then decodes, and encodes back to the same bytes. Writing also takes a `number` that is a safe integer.
 */
import avro from "avsc";

const MIN_LONG = -(2n ** 63n);
const MAX_LONG = 2n ** 63n - 1n;

function isLong(value: unknown): value is bigint | number {
  if (typeof value === "bigint") return value >= MIN_LONG && value <= MAX_LONG;
  return Number.isSafeInteger(value);
}

/** The zigzag varint of a long (what Avro writes), with bigint arithmetic. */
function readVarint(bytes: Buffer): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 7n) | BigInt((bytes[i] as number) & 0x7f);
  return (n >> 1n) ^ -(n & 1n);
}

/** Longs this small zigzag into a number exactly (2^52 doubled stays below 2^53): avsc's number encoder writes them. */
const NUMBER_LIMIT = 2 ** 52;

/** The zigzag varint of a long, with bigint arithmetic (for longs beyond what a number zigzags exactly). */
function writeVarint(value: bigint | number): Buffer {
  const long = BigInt(value);
  let n = long < 0n ? (-long << 1n) - 1n : long << 1n; // zigzag
  const bytes: number[] = [];
  while (n >= 0x80n) {
    bytes.push(Number(n & 0x7fn) | 0x80);
    n >>= 7n;
  }
  bytes.push(Number(n));
  return Buffer.from(bytes);
}

/** JSON has no 64-bit integers: a long that a number cannot hold exactly becomes a string. */
export function longToJSON(value: bigint | number): number | string {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : String(value);
}

/** Avro's `long` as `bigint`, for everything but the hot path (JSON, comparison, copies, schema resolution). */
const LONG_METHODS = avro.types.LongType.__with(
  {
    fromBuffer: readVarint,
    toBuffer: writeVarint,
    fromJSON: (json: unknown) => BigInt(json as bigint | number | string),
    toJSON: longToJSON,
    isValid: isLong,
    compare: (a: bigint | number, b: bigint | number) => {
      const x = BigInt(a);
      const y = BigInt(b);
      return x < y ? -1 : x > y ? 1 : 0;
    },
  },
  true,
);

interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  writeLong(n: number): void;
  writeFixed(bytes: Buffer): void;
}

/**
 * The hot path reads and writes on avsc's buffer directly: a long of up to 7 bytes (49 bits) is read exactly by
 * avsc's own number decoder, and one below 2^52 is written by its number encoder; only the rest does bigint
 * arithmetic. (avsc's `__with` alone would hand every long over as a fresh Buffer.)
 */
const BIGINT_LONG: avro.Type = Object.freeze(
  Object.create(LONG_METHODS, {
    _read: {
      value(tap: Tap): bigint {
        const start = tap.pos;
        const n = tap.readLong();
        return tap.pos - start <= 7 ? BigInt(n) : readVarint(tap.buf.subarray(start, tap.pos));
      },
    },
    _write: {
      value(tap: Tap, value: unknown): void {
        if (!isLong(value)) throw new Error(`invalid "long": ${String(value)}`);
        if (value > -NUMBER_LIMIT && value < NUMBER_LIMIT) tap.writeLong(Number(value));
        else tap.writeFixed(writeVarint(value));
      },
    },
  }),
);

/** Parses an Avro schema with Sluice's long (every named type stays local to this schema). */
export function avroType(schema: avro.Schema): avro.Type {
  return avro.Type.forSchema(schema, {
    registry: { long: BIGINT_LONG },
    // `{ "type": "long", "logicalType": ... }` is declared in place, not looked up in the registry.
    typeHook: (declared) =>
      typeof declared === "object" && (declared as { type?: unknown }).type === "long" ? BIGINT_LONG : undefined,
  });
}

/** Whether `type` is Sluice's long: what code generation writes as `bigint`. */
export function isBigintLong(type: avro.Type): boolean {
  return type === BIGINT_LONG;
}
