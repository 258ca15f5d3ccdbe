/** A schema registry in memory for the test driver: ids are global, and the same schema text keeps its id. */
import type { SchemaRegistry } from "../../schemas/registry-client.ts";

export class MemoryRegistry implements SchemaRegistry {
  private readonly texts: string[] = [];
  private readonly subjects = new Map<string, Set<number>>();

  async schemaById(id: number): Promise<string | undefined> {
    return this.texts[id - 1];
  }

  async lookup(subject: string, schema: string): Promise<number | undefined> {
    const id = this.texts.indexOf(schema) + 1;
    return id > 0 && this.subjects.get(subject)?.has(id) ? id : undefined;
  }

  async register(subject: string, schema: string): Promise<number> {
    let id = this.texts.indexOf(schema) + 1;
    if (id === 0) id = this.texts.push(schema);
    const ids = this.subjects.get(subject) ?? new Set();
    ids.add(id);
    this.subjects.set(subject, ids);
    return id;
  }
}
