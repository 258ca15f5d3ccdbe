/**
 * Avro object container files (the Avro specification's "Object Container Files"), written block by block so a
 * file can grow on disk while it is open: a header (magic, the schema, the codec, a sync marker), then blocks of
 * deflated records, each followed by the marker. The marker is derived from the file's name, so the same records
 * under the same name make the same bytes. Read back with avsc's own decoder (any Avro reader can).
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import zlib from "node:zlib";
import avro from "avsc";
import { avroType } from "../../schemas/avro-type.ts";

const deflateRaw = promisify(zlib.deflateRaw);

const MAGIC = Buffer.from("Obj\x01", "latin1");
const HEADER = avro.Type.forSchema({
  type: "record",
  name: "org.apache.avro.file.Header",
  fields: [
    { name: "magic", type: { type: "fixed", name: "Magic", size: 4 } },
    { name: "meta", type: { type: "map", values: "bytes" } },
    { name: "sync", type: { type: "fixed", name: "Sync", size: 16 } },
  ],
});
const LONG = avro.Type.forSchema("long");

export function syncMarker(name: string): Buffer {
  return createHash("sha256").update(name).digest().subarray(0, 16);
}

/** The file's header: `schema` (JSON text) as the writer's schema, deflate as the codec. */
export function containerHeader(schema: string, sync: Buffer): Buffer {
  return HEADER.toBuffer({
    magic: MAGIC,
    meta: { "avro.schema": Buffer.from(schema), "avro.codec": Buffer.from("deflate") },
    sync,
  });
}

/** One block of records, each already encoded with the file's schema. */
export async function containerBlock(records: Buffer[], sync: Buffer): Promise<Buffer> {
  const data = await deflateRaw(Buffer.concat(records));
  return Buffer.concat([LONG.toBuffer(records.length), LONG.toBuffer(data.length), data, sync]);
}

/** Every record of a container file, decoded with its own schema (longs as bigint, as Sluice reads them). */
export async function readContainer(bytes: Buffer): Promise<{ schema: string; records: unknown[] }> {
  const decoder = new avro.streams.BlockDecoder({ noDecode: true });
  let schema = "";
  decoder.on("metadata", (_type: unknown, _codec: string, header: { meta: Record<string, Buffer> }) => {
    schema = header.meta["avro.schema"]?.toString() ?? "";
  });
  const raw: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    Readable.from([bytes])
      .pipe(decoder)
      .on("data", (record: Buffer) => raw.push(record))
      .on("end", resolve)
      .on("error", reject);
  });
  const type = avroType(JSON.parse(schema));
  return { schema, records: raw.map((record) => type.fromBuffer(record)) };
}
