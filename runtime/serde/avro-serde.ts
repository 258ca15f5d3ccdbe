/**
 * Avro values in the Confluent wire format, with the registry behind a cache: a schema id is fetched once,
 * a writer/reader resolver is built once, and an encoder looks its subject's id up once.
 */
import type avro from "avsc";
import { avroType } from "../../schemas/avro-type.ts";
import type { SchemaRegistry } from "../../schemas/registry-client.ts";
import { SluiceError } from "../../topics/errors.ts";
import { DecodeError, EncodeError } from "./decode-error.ts";
import { frame, unframe } from "./wire-format.ts";

export interface Decoded<T> {
  value: T;
  schemaId: number;
}

/** A schema as registered: its exact text (what the registry matches on) and the parsed type. */
export interface WriterSchema {
  text: string;
  type: avro.Type;
}

export class AvroSerde {
  private readonly writers = new Map<number, Promise<avro.Type>>();
  private readonly resolvers = new Map<number, WeakMap<avro.Type, avro.Resolver | "same">>();
  /** Schema ids by writer schema (object identity, cheap per record), then subject. */
  private readonly ids = new WeakMap<WriterSchema, Map<string, Promise<number>>>();

  private readonly registry: SchemaRegistry;
  private readonly autoRegister: boolean;

  /** `autoRegister` registers an unknown writer schema on first use, as Confluent serializers do by default. */
  constructor(registry: SchemaRegistry, options: { autoRegister?: boolean } = {}) {
    this.registry = registry;
    this.autoRegister = options.autoRegister ?? false;
  }

  /** Encodes `value` with `schema`, which must be registered under `subject` (or is, with autoRegister). */
  async encode(subject: string, schema: WriterSchema, value: unknown): Promise<Buffer> {
    const { type } = schema;
    // The fast check first; the one that collects every offending path only for values that fail it.
    if (!type.isValid(value)) {
      const paths: string[] = [];
      type.isValid(value, { errorHook: (path) => paths.push(path.join(".") || "(value)") });
      throw new EncodeError(
        `value does not fit ${type.name ?? type.typeName}: bad field(s) ${paths.join(", ")}`,
        paths,
      );
    }
    return frame(await this.schemaId(subject, schema), type.toBuffer(value));
  }

  /** Decodes wire-format bytes with the writer's schema, read as `reader` when given. */
  async decode<T = unknown>(bytes: Buffer, reader?: avro.Type): Promise<Decoded<T>> {
    const { schemaId, body } = unframe(bytes);
    const writer = await this.writer(schemaId);
    const resolver = reader ? this.resolver(schemaId, writer, reader) : "same";
    const type = reader ?? writer;
    try {
      const value = resolver === "same" ? type.fromBuffer(body) : type.fromBuffer(body, resolver);
      return { value: value as T, schemaId };
    } catch (error) {
      const message = (error as Error).message;
      const code = /truncated/i.test(message) ? "TRUNCATED" : "INVALID_AVRO";
      throw new DecodeError(code, `schema id ${schemaId}: ${message}`, schemaId);
    }
  }

  private writer(schemaId: number): Promise<avro.Type> {
    let writer = this.writers.get(schemaId);
    if (!writer) {
      writer = this.registry.schemaById(schemaId).then((text) => {
        if (text === undefined)
          throw new DecodeError("UNKNOWN_SCHEMA_ID", `schema id ${schemaId} is not in the registry`, schemaId);
        return avroType(JSON.parse(text) as avro.Schema);
      });
      this.writers.set(schemaId, writer);
      // Only found schemas are cached: an unknown id may be registered later, and a registry outage must pass.
      writer.catch(() => this.writers.delete(schemaId));
    }
    return writer;
  }

  private resolver(schemaId: number, writer: avro.Type, reader: avro.Type): avro.Resolver | "same" {
    let byReader = this.resolvers.get(schemaId);
    if (!byReader) {
      byReader = new WeakMap();
      this.resolvers.set(schemaId, byReader);
    }
    let resolver = byReader.get(reader);
    if (!resolver) {
      try {
        resolver = writer.equals(reader) ? "same" : reader.createResolver(writer);
      } catch (error) {
        throw new DecodeError(
          "SCHEMA_MISMATCH",
          `schema id ${schemaId} (${writer.name}) cannot be read as ${reader.name}: ${(error as Error).message}`,
          schemaId,
        );
      }
      byReader.set(reader, resolver);
    }
    return resolver;
  }

  private schemaId(subject: string, schema: WriterSchema): Promise<number> {
    const { text, type } = schema;
    let bySubject = this.ids.get(schema);
    if (!bySubject) {
      bySubject = new Map();
      this.ids.set(schema, bySubject);
    }
    const ids = bySubject;
    let id = ids.get(subject);
    if (!id) {
      id = (async () => {
        const found = await this.registry.lookup(subject, text);
        if (found !== undefined) return found;
        if (this.autoRegister) return this.registry.register(subject, text);
        throw new SluiceError(
          "SCHEMA_NOT_REGISTERED",
          `${type.name} is not registered under ${subject}: run \`sluice schemas register\``,
        );
      })();
      ids.set(subject, id);
      id.catch(() => ids.delete(subject));
    }
    return id;
  }
}
