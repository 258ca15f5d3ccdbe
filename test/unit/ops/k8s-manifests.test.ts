/**
 * The Kubernetes manifests under ops/k8s/, offline: they are what ops/k8s/render.ts renders; every object validates
 * against the Kubernetes OpenAPI schemas (kubernetes-models 5.1.0: Kubernetes v1.36.0) and KEDA's
 * (@kubernetes-models/keda 2.0.0: KEDA v2.19.0), with no field those schemas do not know; and they say what a user
 * relies on (a workload per processor, probes, stable instance ids, credentials kept in the Secret, budgets and
 * scaling that match).
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { Job } from "kubernetes-models/batch/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Namespace, Service } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { deploymentDefinitions } from "../../../ops/deployment.ts";
import {
  CONFIG_MAP,
  CREDENTIAL_KEYS,
  CREDENTIALS_SECRET,
  committedManifests,
  HTTP_PORT,
  IMAGE,
  NOT_AUTOSCALED,
  OUTSIDE_HEAP_MIB,
  objectName,
  SIZING_OVERRIDES,
  staleManifests,
} from "../../../ops/k8s/render.ts";
import { routeOf } from "../../../runtime/index.ts";
import { TOPICS } from "../../../topics/catalog.ts";
import { topicByName } from "../../../topics/topic.ts";

type Validate = (object: unknown) => void;

/** A model's validate(), for an object parsed from YAML: validate() is what checks its shape. */
const validateWith =
  <T>(Model: new (data: T) => { validate(): void }): Validate =>
  (object) =>
    new Model(object as T).validate();

/** Every kind the manifests may hold, by apiVersion/kind: anything else fails the test, unvalidated. */
const SCHEMAS: Record<string, Validate> = {
  "v1/Namespace": validateWith(Namespace),
  "v1/ConfigMap": validateWith(ConfigMap),
  "v1/Service": validateWith(Service),
  "apps/v1/StatefulSet": validateWith(StatefulSet),
  "apps/v1/Deployment": validateWith(Deployment),
  "policy/v1/PodDisruptionBudget": validateWith(PodDisruptionBudget),
  "batch/v1/Job": validateWith(Job),
  "keda.sh/v1alpha1/ScaledObject": validateWith(ScaledObject),
};

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The instance paths (JSON pointers) validation complains about; none when the object passes. */
function complaints(validate: Validate, object: unknown): string[] {
  try {
    validate(object);
    return [];
  } catch (error) {
    if (error instanceof Error && "errors" in error && Array.isArray(error.errors)) {
      return error.errors.map((e) => String(e.instancePath));
    }
    throw error;
  }
}

const NO_SCHEMA_ACCEPTS = Symbol("a value no schema accepts");

/**
 * Kubernetes' OpenAPI schemas leave objects open (no additionalProperties: false), so validate() takes a misspelt
 * field without a word. To find one, each field in turn is given a value no schema accepts: validation complains
 * about a field its schema knows, and says nothing about one it does not.
 */
function unknownFields(validate: Validate, object: Json): string[] {
  const unknown: string[] = [];
  const visit = (value: unknown, at: string): void => {
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) visit(item, `${at}/${i}`);
    }
    if (!isRecord(value)) return;
    for (const [key, field] of Object.entries(value)) {
      const pointer = `${at}/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`;
      value[key] = NO_SCHEMA_ACCEPTS;
      const known = complaints(validate, object).some((p) => p === pointer || p.startsWith(`${pointer}/`));
      value[key] = field;
      if (known) visit(field, pointer);
      else unknown.push(pointer);
    }
  };
  visit(object, "");
  return unknown;
}

interface Parsed {
  file: string;
  object: Json;
}

/** Every YAML document under ops/k8s/, parsed; a file that does not parse fails here. */
function parsedManifests(): Parsed[] {
  return [...committedManifests()]
    .filter(([file]) => file.endsWith(".yaml"))
    .flatMap(([file, text]) =>
      parseAllDocuments(text).map((doc) => {
        if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join("; ")}`);
        const object: unknown = doc.toJS();
        if (!isRecord(object)) throw new Error(`${file}: a document that is not an object`);
        return { file, object };
      }),
    );
}

const manifests = parsedManifests();
const typeOf = ({ object }: Parsed) => `${object.apiVersion}/${object.kind}`;
const objectsOf = (kind: string) => manifests.filter((m) => m.object.kind === kind && typeOf(m) in SCHEMAS);

/** A field by path, or undefined; parsed YAML is checked as it is read. */
function at(value: unknown, ...keys: (string | number)[]): unknown {
  let node = value;
  for (const key of keys) {
    if (typeof key === "number") node = Array.isArray(node) ? node[key] : undefined;
    else node = isRecord(node) ? node[key] : undefined;
  }
  return node;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function record(value: unknown): Json {
  return isRecord(value) ? value : {};
}

const workloads = () => [...objectsOf("StatefulSet"), ...objectsOf("Deployment"), ...objectsOf("Job")];
const podSpecOf = (workload: Parsed) => at(workload.object, "spec", "template", "spec");
const containersOf = (workload: Parsed) => [
  ...list(at(podSpecOf(workload), "initContainers")),
  ...list(at(podSpecOf(workload), "containers")),
];
const mebibytes = (quantity: unknown) => {
  const match = /^(\d+)(Mi|Gi)$/.exec(String(quantity));
  if (!match) throw new Error(`not a Mi or Gi quantity: ${quantity}`);
  return Number(match[1]) * (match[2] === "Gi" ? 1024 : 1);
};

describe("Kubernetes manifests (ops/k8s)", () => {
  it("are what `node ops/k8s/render.ts` renders from deploymentDefinitions()", () => {
    expect(staleManifests()).toEqual([]);
  });

  it("validate against the Kubernetes v1.36.0 and KEDA v2.19.0 OpenAPI schemas, with no field they do not know", () => {
    const failures: string[] = [];
    for (const manifest of manifests) {
      const where = `${manifest.file} ${typeOf(manifest)} ${at(manifest.object, "metadata", "name")}`;
      if (manifest.object.kind === "Kustomization") continue; // kustomize's own file: checked below
      const validate = SCHEMAS[typeOf(manifest)];
      if (!validate) {
        failures.push(`${where}: no schema to validate it with`);
        continue;
      }
      try {
        validate(manifest.object);
      } catch (error) {
        failures.push(`${where}: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      for (const field of unknownFields(validate, manifest.object)) failures.push(`${where}: unknown field ${field}`);
    }
    expect(failures).toEqual([]);
    expect(manifests.length).toBeGreaterThan(50);
  });

  it("reject a broken object, and the unknown-field check finds what validate() lets through", () => {
    const statefulSet = objectsOf("StatefulSet")[0]?.object;
    const scaledObject = objectsOf("ScaledObject")[0]?.object;
    const validate = SCHEMAS["apps/v1/StatefulSet"]!;
    const broken = structuredClone(statefulSet);
    record(at(broken, "spec")).replicas = "2";
    expect(() => validate(broken)).toThrow("data/spec/replicas must be integer");
    const noPort = structuredClone(statefulSet);
    record(at(noPort, "spec", "template", "spec", "containers", 0, "livenessProbe", "httpGet")).port = undefined;
    expect(() => validate(noPort)).toThrow("httpGet must have required property port");
    const badScale = structuredClone(scaledObject);
    record(at(badScale, "spec")).maxReplicaCount = "12";
    expect(() => SCHEMAS["keda.sh/v1alpha1/ScaledObject"]!(badScale)).toThrow("maxReplicaCount must be integer");

    const misspelt = structuredClone(statefulSet)!;
    const container = record(at(misspelt, "spec", "template", "spec", "containers", 0));
    container.livenessprobe = container.livenessProbe;
    container.livenessProbe = undefined;
    expect(() => validate(misspelt)).not.toThrow(); // the schemas allow any extra field
    expect(unknownFields(validate, misspelt)).toEqual(["/spec/template/spec/containers/0/livenessprobe"]);
  });

  it("name objects with DNS labels, short enough for a StatefulSet's pods", () => {
    for (const { object } of manifests.filter((m) => m.object.kind !== "Kustomization")) {
      expect(at(object, "metadata", "name")).toMatch(/^[a-z0-9]([-a-z0-9]{0,50}[a-z0-9])?$/);
      for (const value of Object.values(record(at(object, "metadata", "labels")))) {
        expect(value).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/);
      }
    }
  });

  it("run every processor, sink and connector as a StatefulSet whose pods' names are their instance ids", () => {
    const statefulSets = objectsOf("StatefulSet");
    const definitions = deploymentDefinitions();
    const runs = statefulSets.map((s) => at(s.object, "spec", "template", "spec", "containers", 0, "args"));
    expect(runs).toHaveLength(definitions.length);
    expect(runs).toEqual(expect.arrayContaining(definitions.map((d) => ["run", d.name])));
    expect(new Set(definitions.map((d) => objectName(d.name))).size).toBe(definitions.length);
    for (const name of Object.keys(SIZING_OVERRIDES)) expect(definitions.map((d) => d.name)).toContain(name);
    for (const { object } of statefulSets) {
      const env = list(at(object, "spec", "template", "spec", "containers", 0, "env"));
      expect(env).toContainEqual({
        name: "SLUICE_INSTANCE_ID",
        valueFrom: { fieldRef: { fieldPath: "metadata.name" } },
      });
      // The StatefulSet's headless Service exists, and selects its pods.
      const service = objectsOf("Service").find(
        (s) => at(s.object, "metadata", "name") === at(object, "spec", "serviceName"),
      );
      expect(at(service?.object, "spec", "clusterIP")).toBe("None");
      expect(at(service?.object, "spec", "selector")).toEqual(at(object, "spec", "selector", "matchLabels"));
    }
  });

  it("run the image as a non-root user, and select their own pods", () => {
    for (const workload of workloads()) {
      expect(at(podSpecOf(workload), "securityContext", "runAsNonRoot")).toBe(true);
      expect(at(podSpecOf(workload), "securityContext", "runAsUser")).toBe(10001);
      for (const container of containersOf(workload)) expect(at(container, "image")).toBe(IMAGE);
      const labels = record(at(workload.object, "spec", "template", "metadata", "labels"));
      for (const [key, value] of Object.entries(record(at(workload.object, "spec", "selector", "matchLabels")))) {
        expect(labels[key]).toBe(value);
      }
    }
  });

  it("probe /health/live and /health/ready where the process serves them, and give SIGTERM time to drain", () => {
    const served = [...objectsOf("StatefulSet"), ...objectsOf("Deployment")].filter(
      (w) => at(w.object, "spec", "template", "spec", "containers", 0, "ports") !== undefined,
    );
    expect(served.length).toBe(objectsOf("StatefulSet").length + 4); // and the four HTTP services
    for (const workload of served) {
      const container = at(podSpecOf(workload), "containers", 0);
      expect(at(container, "ports", 0, "name")).toBe("http");
      expect(at(container, "livenessProbe", "httpGet")).toEqual({ path: "/health/live", port: "http" });
      expect(at(container, "startupProbe", "httpGet")).toEqual({ path: "/health/live", port: "http" });
      expect(at(container, "readinessProbe", "httpGet")).toEqual({ path: "/health/ready", port: "http" });
    }
    for (const { object } of objectsOf("StatefulSet")) {
      expect(at(object, "spec", "template", "spec", "containers", 0, "ports", 0, "containerPort")).toBe(HTTP_PORT);
      expect(at(object, "spec", "template", "spec", "terminationGracePeriodSeconds")).toBeGreaterThan(30);
    }
  });

  it("size memory for the bounded heap plus what the bench measured outside it, and set no CPU limit", () => {
    for (const { object } of objectsOf("StatefulSet")) {
      const container = at(object, "spec", "template", "spec", "containers", 0);
      const heapMb = Number(
        at(
          list(at(container, "env")).find((e) => at(e, "name") === "SLUICE_HEAP_MB"),
          "value",
        ),
      );
      expect(heapMb).toBeGreaterThanOrEqual(128);
      const request = mebibytes(at(container, "resources", "requests", "memory"));
      expect(request).toBeGreaterThanOrEqual(heapMb + OUTSIDE_HEAP_MIB);
      expect(mebibytes(at(container, "resources", "limits", "memory"))).toBeGreaterThan(request);
      expect(at(container, "resources", "limits", "cpu")).toBeUndefined();
    }
  });

  it("keep credentials in the Secret the user creates: none inline, none committed, the example placeholders only", () => {
    const secretKeys = new Set(CREDENTIAL_KEYS.map((k) => k.name));
    expect(manifests.filter((m) => m.object.kind === "Secret")).toEqual([]);
    const configMap = objectsOf("ConfigMap").find((c) => at(c.object, "metadata", "name") === CONFIG_MAP);
    expect(Object.keys(record(at(configMap?.object, "data"))).filter((k) => secretKeys.has(k))).toEqual([]);
    for (const workload of workloads()) {
      for (const container of containersOf(workload)) {
        expect(at(container, "envFrom")).toEqual([
          { configMapRef: { name: CONFIG_MAP } },
          { secretRef: { name: CREDENTIALS_SECRET } },
        ]);
        for (const env of list(at(container, "env"))) expect(secretKeys.has(String(at(env, "name")))).toBe(false);
      }
    }
    const example = committedManifests().get("base/credentials.example.env") ?? "";
    const entries = example.split("\n").filter((line) => line && !line.startsWith("#"));
    expect(entries.map((line) => line.split("=")[0])).toEqual([...secretKeys]);
    for (const line of entries) expect(line.slice(line.indexOf("=") + 1)).toMatch(/^$|CHANGE-ME/);
  });

  it("give the ConfigMap or the Secret every address the runtime, connectors, processors and services read", () => {
    const root = path.resolve(import.meta.dirname, "../../..");
    const read = new Set<string>();
    for (const layer of ["runtime", "connectors", "processors", "services"]) {
      for (const file of readdirSync(path.join(root, layer), { recursive: true }).map(String)) {
        if (!file.endsWith(".ts")) continue;
        const text = readFileSync(path.join(root, layer, file), "utf8");
        for (const [, name] of text.matchAll(/"([A-Z][A-Z0-9_]*_(?:URL|BROKERS|BUCKET|ENDPOINT|REGION|PREFIX))"/g)) {
          read.add(name!);
        }
      }
    }
    const configMap = objectsOf("ConfigMap").find((c) => at(c.object, "metadata", "name") === CONFIG_MAP);
    const given = new Set([
      ...Object.keys(record(at(configMap?.object, "data"))),
      ...CREDENTIAL_KEYS.map((k) => k.name),
    ]);
    expect(read.size).toBeGreaterThan(10);
    expect([...read].filter((name) => !given.has(name))).toEqual([]);
  });

  it("give every StatefulSet and Deployment a PodDisruptionBudget (maxUnavailable 1) that selects its pods", () => {
    const budgets = objectsOf("PodDisruptionBudget");
    for (const { object } of budgets) expect(at(object, "spec", "maxUnavailable")).toBe(1);
    for (const { object } of objectsOf("StatefulSet")) {
      const labels = record(at(object, "spec", "template", "metadata", "labels"));
      const matching = budgets.filter(({ object: budget }) =>
        Object.entries(record(at(budget, "spec", "selector", "matchLabels"))).every(([k, v]) => labels[k] === v),
      );
      expect(matching.map((b) => at(b.object, "metadata", "name"))).toEqual([at(object, "metadata", "name")]);
    }
  });

  it("scale with KEDA (opt-in) on the group's lag on its input, never past the input's partitions", () => {
    const scaled = objectsOf("ScaledObject");
    expect(scaled.every((s) => s.file.startsWith("keda/"))).toBe(true);
    const definitions = deploymentDefinitions().filter((d) => !NOT_AUTOSCALED.has(d.name));
    expect(scaled).toHaveLength(definitions.length);
    for (const definition of definitions) {
      const name = objectName(definition.name);
      const scaledObject = scaled.find((s) => at(s.object, "spec", "scaleTargetRef", "name") === name);
      expect(at(scaledObject?.object, "spec", "scaleTargetRef", "kind")).toBe("StatefulSet");
      expect(objectsOf("StatefulSet").map((s) => at(s.object, "metadata", "name"))).toContain(name);
      const spec = at(scaledObject?.object, "spec");
      const route = routeOf(definition);
      const partitions = topicByName(route.input, TOPICS)?.partitions ?? 0;
      expect(at(spec, "triggers", 0, "type")).toBe("kafka");
      expect(at(spec, "triggers", 0, "metadata", "consumerGroup")).toBe(route.group);
      expect(at(spec, "triggers", 0, "metadata", "topic")).toBe(route.input);
      expect(at(spec, "minReplicaCount")).toBeGreaterThanOrEqual(1);
      expect(at(spec, "maxReplicaCount")).toBeGreaterThanOrEqual(1);
      expect(at(spec, "maxReplicaCount")).toBeLessThanOrEqual(partitions);
    }
  });

  it("list every manifest in a kustomization, and only files that exist", () => {
    const files = committedManifests();
    const listed = new Set<string>();
    for (const { file, object } of manifests.filter((m) => m.object.kind === "Kustomization")) {
      expect(Object.keys(object).sort()).toEqual(["apiVersion", "kind", "resources"]);
      for (const resource of list(object.resources)) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), String(resource)));
        expect(files.has(target) || files.has(`${target}/kustomization.yaml`), `${file} → ${target}`).toBe(true);
        listed.add(target);
      }
    }
    const manifestFiles = [...files.keys()].filter((f) => f.endsWith(".yaml") && !f.endsWith("kustomization.yaml"));
    expect(manifestFiles.filter((f) => !listed.has(f) && !listed.has(path.posix.dirname(f)))).toEqual([]);
  });
});
