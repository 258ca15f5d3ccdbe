/**
 * Group commit when a transaction fails (librdkafka's semantics, with producers that fail as told): a failure
 * before the commit, or an abortable one, aborts and says so; a commit that fails and cannot be aborted is
 * COMMIT_UNKNOWN, and the producer is replaced before the next transaction; a producer that cannot begin one is
 * replaced too; and a runner that stops does not wait for a replacement that cannot start.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { systemClock } from "../../../runtime/index.ts";
import type { GroupConsumer, Producer } from "../../../runtime/kafka/port.ts";
import { OutputBuffer } from "../../../runtime/output-buffer.ts";
import { GroupCommit } from "../../../runtime/runner/group-commit.ts";

interface Script {
  commit?: () => Promise<void>;
  abort?: () => Promise<void>;
  send?: () => Promise<void>;
  begin?: () => Promise<void>;
  connect?: () => Promise<void>;
}

class FakeProducer implements Producer {
  committed = 0;
  disconnected = false;
  readonly script: Script;
  constructor(script: Script = {}) {
    this.script = script;
  }
  connect = async () => this.script.connect?.();
  send = async () => {};
  disconnect = async () => {
    this.disconnected = true;
  };
  transaction = async () => {
    await this.script.begin?.();
    return {
      send: async () => this.script.send?.(),
      sendOffsets: async () => {},
      commit: async () => {
        await this.script.commit?.();
        this.committed++;
      },
      abort: async () => this.script.abort?.(),
    };
  };
}

const fail =
  (message: string, props: object = {}) =>
  async () => {
    throw Object.assign(new Error(message), props);
  };
const consumer = {} as GroupConsumer;
const log = pino({ level: "silent" });
const submit = (commits: GroupCommit) => commits.submit({ topic: "t", partition: 0, offset: "1" }, new OutputBuffer());

function commitsWith(first: FakeProducer, next: () => FakeProducer) {
  const made: FakeProducer[] = [];
  const commits = new GroupCommit(first, consumer, {
    newProducer: () => {
      const p = next();
      made.push(p);
      return p;
    },
    log,
    clock: systemClock,
  });
  return { commits, made };
}

describe("group commit when a transaction fails", () => {
  it("a commit that fails and cannot be aborted is COMMIT_UNKNOWN; the next transaction runs on a new producer", async () => {
    const first = new FakeProducer({ commit: fail("Timed out", { retriable: true }), abort: fail("Timed out") });
    const { commits, made } = commitsWith(first, () => new FakeProducer());
    await expect(submit(commits)).rejects.toMatchObject({ code: "COMMIT_UNKNOWN" });
    await commits.recovered();
    expect(first.disconnected).toBe(true);
    await submit(commits);
    expect(made).toHaveLength(1);
    expect(made[0]?.committed).toBe(1);
  });

  it("an abortable failure in the commit aborts and says what failed, with no new producer", async () => {
    const first = new FakeProducer({ commit: fail("Fenced offsets", { abortable: true }) });
    const { commits, made } = commitsWith(first, () => new FakeProducer());
    await expect(submit(commits)).rejects.toThrow("Fenced offsets");
    expect(made).toHaveLength(0);
  });

  it("a failure before the commit whose abort fails too is no unknown outcome, but the producer is replaced", async () => {
    const first = new FakeProducer({ send: fail("Message timed out"), abort: fail("Timed out") });
    const { commits, made } = commitsWith(first, () => new FakeProducer());
    const error = await submit(commits).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: "Message timed out" }); // never committed: not COMMIT_UNKNOWN
    await commits.recovered();
    await submit(commits);
    expect(made.map((p) => p.committed)).toEqual([1]);
  });

  it("a producer that cannot begin a transaction is replaced", async () => {
    const first = new FakeProducer({ begin: fail("Can only start one transaction at a time.") });
    const { commits, made } = commitsWith(first, () => new FakeProducer());
    await expect(submit(commits)).rejects.toThrow("Can only start one transaction");
    await commits.recovered();
    await submit(commits);
    expect(made.map((p) => p.committed)).toEqual([1]);
  });

  it("stopping gives up a replacement that cannot start, and nothing waits for it", async () => {
    const first = new FakeProducer({ commit: fail("Timed out"), abort: fail("Timed out") });
    const { commits, made } = commitsWith(first, () => new FakeProducer({ connect: fail("all brokers down") }));
    await expect(submit(commits)).rejects.toMatchObject({ code: "COMMIT_UNKNOWN" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    commits.closing();
    await commits.recovered(); // settles once its current wait is over
    await expect(submit(commits)).rejects.toMatchObject({ code: "NOT_STARTED" });
    await commits.close();
    expect(made.length).toBeGreaterThan(0);
  }, 10_000);
});
