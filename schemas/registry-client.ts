/**
 * A small client for the Confluent-compatible schema registry API (Apicurio serves it at /apis/ccompat/v7).
 * It covers what Sluice needs, compatibility configuration included, with typed errors.
 */
import { SluiceError } from "../topics/errors.ts";
import type { CompatibilityLevel } from "../topics/topic.ts";

/** An address safe to print: credentials in a URL are replaced by `***`. */
export function redact(address: string): string {
  try {
    const url = new URL(address);
    if (url.password) url.password = "***";
    return url.toString().replace(/\/$/, "");
  } catch {
    return address.replace(/\/\/[^@/]*@/, "//***@");
  }
}

export class RegistryError extends SluiceError {
  readonly status: number | undefined;
  constructor(code: "REGISTRY_UNAVAILABLE" | "REGISTRY_REJECTED", message: string, status?: number) {
    super(code, message);
    this.status = status;
  }
}

/** What reading and writing values needs of a schema registry (the test driver brings one in memory). */
export interface SchemaRegistry {
  /** The schema text registered under `id`, or undefined when the registry does not know the id. */
  schemaById(id: number): Promise<string | undefined>;
  /** The id of `schema` under `subject` if that exact schema is registered there. */
  lookup(subject: string, schema: string): Promise<number | undefined>;
  register(subject: string, schema: string): Promise<number>;
}

export interface RegisteredSchema {
  id: number;
  version: number;
  schema: string;
}

const CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

export class SchemaRegistryClient implements SchemaRegistry {
  /** The registry's address, without credentials. */
  readonly url: string;
  /** HTTP basic auth, from the address's user and password (`https://user:password@registry/...`). */
  private readonly authorization: string | undefined;

  constructor(url: string) {
    const parsed = URL.canParse(url) ? new URL(url) : undefined;
    if (parsed && (parsed.username || parsed.password)) {
      const user = decodeURIComponent(parsed.username);
      const password = decodeURIComponent(parsed.password);
      this.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
      parsed.username = "";
      parsed.password = "";
      url = parsed.toString();
    }
    this.url = url.replace(/\/+$/, "");
  }

  /** The schema text registered under `id`, or undefined when the registry does not know the id. */
  async schemaById(id: number): Promise<string | undefined> {
    const body = await this.request<{ schema: string }>("GET", `/schemas/ids/${id}`, undefined, [404]);
    return body?.schema;
  }

  async register(subject: string, schema: string): Promise<number> {
    const body = await this.request<{ id: number }>("POST", `/subjects/${enc(subject)}/versions`, {
      schema,
      schemaType: "AVRO",
    });
    if (!body) throw new RegistryError("REGISTRY_REJECTED", `registering under ${subject} returned nothing`);
    return body.id;
  }

  /** The id of `schema` under `subject` if that exact schema is registered there. */
  async lookup(subject: string, schema: string): Promise<number | undefined> {
    const body = await this.request<{ id: number }>(
      "POST",
      `/subjects/${enc(subject)}`,
      { schema, schemaType: "AVRO" },
      [404],
    );
    return body?.id;
  }

  async versions(subject: string): Promise<number[]> {
    return (await this.request<number[]>("GET", `/subjects/${enc(subject)}/versions`, undefined, [404])) ?? [];
  }

  async version(subject: string, version: number | "latest"): Promise<RegisteredSchema> {
    const body = await this.request<RegisteredSchema>("GET", `/subjects/${enc(subject)}/versions/${version}`);
    if (!body) throw new RegistryError("REGISTRY_REJECTED", `${subject} version ${version} returned nothing`);
    return body;
  }

  async setCompatibility(subject: string, level: CompatibilityLevel): Promise<void> {
    await this.request("PUT", `/config/${enc(subject)}`, { compatibility: level });
  }

  async compatibility(subject: string): Promise<CompatibilityLevel | undefined> {
    const body = await this.request<{ compatibilityLevel?: CompatibilityLevel; compatibility?: CompatibilityLevel }>(
      "GET",
      `/config/${enc(subject)}`,
      undefined,
      [404],
    );
    return body?.compatibilityLevel ?? body?.compatibility;
  }

  async subjects(): Promise<string[]> {
    return (await this.request<string[]>("GET", "/subjects")) ?? [];
  }

  /** Deletes a subject for good (soft delete, then hard delete, as Confluent requires). */
  async deleteSubject(subject: string): Promise<void> {
    await this.request("DELETE", `/subjects/${enc(subject)}`, undefined, [404]);
    await this.request("DELETE", `/subjects/${enc(subject)}?permanent=true`, undefined, [404]);
  }

  private async request<T>(
    method: string,
    path: string,
    body?: unknown,
    absentOn: number[] = [],
  ): Promise<T | undefined> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          accept: CONTENT_TYPE,
          ...(body === undefined ? {} : { "content-type": CONTENT_TYPE }),
          ...(this.authorization ? { authorization: this.authorization } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new RegistryError(
        "REGISTRY_UNAVAILABLE",
        `schema registry at ${redact(this.url)} is unreachable: ${(error as Error).message}`,
      );
    }
    if (absentOn.includes(response.status)) return undefined;
    const text = await response.text();
    if (!response.ok) {
      const message = safeJson<{ message?: string }>(text)?.message ?? text.slice(0, 200);
      throw new RegistryError("REGISTRY_REJECTED", `${method} ${path}: ${response.status} ${message}`, response.status);
    }
    return text ? (JSON.parse(text) as T) : undefined;
  }
}

const enc = encodeURIComponent;

function safeJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
