/**
 * `node ops/k8s/render.ts [--check]`: writes the Kubernetes manifests under ops/k8s/ from deploymentDefinitions(),
 * so every processor, sink and connector that `sluice run` can run has its workload, and a removed one leaves none
 * behind. `--check` writes nothing and fails when the committed files differ from what it renders (as
 * `sluice schemas codegen --check` does). ops/k8s/README.md says how to apply them and where the figures come from.
 *
 * The objects are typed with kubernetes-models' interfaces (from Kubernetes' OpenAPI), so most misspelt fields fail
 * the type check already; test/unit/ops/k8s-manifests.test.ts validates the committed YAML against the schemas.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { IScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IStatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import type { IJob } from "kubernetes-models/batch/v1/Job";
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import type { IConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IEnvVar } from "kubernetes-models/v1/EnvVar";
import type { INamespace } from "kubernetes-models/v1/Namespace";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import type { IProbe } from "kubernetes-models/v1/Probe";
import type { IService } from "kubernetes-models/v1/Service";
import { Document, isMap, isNode, isScalar } from "yaml";
import { connectorSettings } from "../../connectors/settings.ts";
import pkg from "../../package.json" with { type: "json" };
import { isSink, loadConfig, type Processor, routeOf, type Sink } from "../../runtime/index.ts";
import { TOPICS } from "../../topics/catalog.ts";
import { topicByName } from "../../topics/topic.ts";
import { deploymentDefinitions } from "../deployment.ts";

const K8S_DIR = import.meta.dirname;
/** The files under ops/k8s/ that are written by hand; every other file there is this script's. */
const HAND_WRITTEN = new Set(["README.md", "render.ts"]);

const NAMESPACE = "sluice";
/** The image ops/container/Containerfile builds; its ENTRYPOINT is `node /app/ops/cli/sluice.ts`. */
export const IMAGE = `localhost/${pkg.name}:${pkg.version}`;
/** The image's user: not root. */
const UID = 10001;
export const CONFIG_MAP = "sluice-config";
/** Created by the user (README.md), never committed: the workloads only refer to it. */
export const CREDENTIALS_SECRET = "sluice-credentials";
/** `sluice run` serves /metrics, /health/live and /health/ready here: SLUICE_HTTP_PORT's default. */
export const HTTP_PORT = loadConfig({}).httpPort;

/**
 * The old-generation heap pinned with SLUICE_HEAP_MB: what ops/cli/commands/run.ts chooses by itself for one
 * processor (64 MB base, 32 for the processor's consumer, 32 for the delay router's) or one sink (64, 32 for the
 * router, 96 for the sink's batches). Pinned, so the memory below cannot drift from the heap it was sized for.
 */
const HEAP_MB = { processor: 128, sink: 192 } as const;
/**
 * The last full bench (`npm run bench`, test/bench/bench.ts): one `sluice run` process consuming 12 partitions at
 * full rate peaked at 251 MiB resident (VmHWM) with the 128 MB heap of one processor. The other 123 MiB lived outside
 * the bounded old generation: the young generation, code, buffers, librdkafka's queues.
 */
const BENCH_PEAK_RSS_MIB = 251;
export const OUTSIDE_HEAP_MIB = BENCH_PEAK_RSS_MIB - HEAP_MB.processor;
/** Above the expected peak before the OOM killer restarts the pod (a restart redelivers what was uncommitted). */
const LIMIT_HEADROOM_MIB = 128;
/** run.ts's DRAIN_MS (30s: SIGTERM stops fetching, finishes or aborts in-flight work, commits), plus a margin. */
const TERMINATION_GRACE_SECONDS = 45;

interface Sizing {
  /** CPU request. No CPU limit: CFS throttling would stall the poll loop and heartbeats under bursts. */
  cpu: string;
  heapMb: number;
  memoryRequest: string;
  memoryLimit: string;
  /** The emptyDir at /tmp (the root filesystem is read-only). */
  tmp: string;
  /** KEDA's target lag per replica, in records. */
  lagThreshold: number;
}

function sizingOf(definition: Processor | Sink): Sizing {
  const heapMb = isSink(definition) ? HEAP_MB.sink : HEAP_MB.processor;
  const request = Math.ceil((heapMb + OUTSIDE_HEAP_MIB) / 32) * 32;
  const sizing: Sizing = {
    cpu: "250m",
    heapMb,
    memoryRequest: `${request}Mi`,
    memoryLimit: `${request + LIMIT_HEADROOM_MIB}Mi`,
    tmp: "2Gi",
    lagThreshold: 1000,
  };
  return { ...sizing, ...SIZING_OVERRIDES[definition.name] };
}

/**
 * Where one definition needs more than its kind. The transcoder's ffmpeg runs inside its pod (one transcode at a
 * time: jobsAtOnce 1), with cores, memory and scratch space of its own; estimated, not measured. Each record is
 * minutes of work, so one waiting video is reason enough for another replica.
 */
export const SIZING_OVERRIDES: Record<string, Partial<Sizing>> = {
  "video-transcoder": { cpu: "1", memoryRequest: "1Gi", memoryLimit: "2Gi", tmp: "4Gi", lagThreshold: 1 },
};

/**
 * Left out of KEDA: the flash-sale writer writes at most SLUICE_FLASHSALE_WRITE_RATE rows a second per process, so
 * that a burst waits in Kafka rather than in the database. Its lag in a burst is by design, and more replicas would
 * multiply the rate.
 */
export const NOT_AUTOSCALED = new Set(["flashsale-writer"]);

/**
 * The reference HTTP services (`sluice serve <name>`) and the ports they listen on (ops/cli/commands/serve.ts).
 * They keep no state of their own: Deployments.
 */
const HTTP_SERVICES: readonly { name: string; port: number; tmp: string }[] = [
  { name: "orders", port: 9410, tmp: "1Gi" },
  { name: "users", port: 9420, tmp: "1Gi" },
  { name: "flashsale", port: 9430, tmp: "1Gi" },
  // Uploads (up to VIDEO_MAX_BYTES, 500 MB) wait in /tmp on their way to the media store.
  { name: "videos", port: 9440, tmp: "4Gi" },
];

/** The ConfigMap: addresses and settings without credentials. An empty value is the same as unset. */
function configEntries(): { name: string; value: string; note?: string }[] {
  return [
    {
      name: "KAFKA_BROKERS",
      value: "kafka:9092",
      note: "Comma-separated; KEDA reads it too (bootstrapServersFromEnv).",
    },
    {
      name: "SCHEMA_REGISTRY_URL",
      value: "http://schema-registry:8081/apis/ccompat/v7",
      note: "Any Confluent-compatible registry (Apicurio: its /apis/ccompat/v7).",
    },
    { name: "ELASTICSEARCH_URL", value: "http://elasticsearch:9200" },
    {
      name: "ARCHIVE_TOPICS",
      value: connectorSettings().archive.topics.join(","),
      note: "Each topic has its archive-<topic> sink and workload: change it with `ARCHIVE_TOPICS=... node ops/k8s/render.ts`.",
    },
    {
      name: "ARCHIVE_S3_BUCKET",
      value: "sluice-archive",
      note: "Required here: without a bucket the archive would be written to the pod's emptyDir and lost with it.",
    },
    { name: "ARCHIVE_S3_PREFIX", value: "" },
    { name: "ARCHIVE_S3_ENDPOINT", value: "", note: "Empty: AWS. Any S3-compatible store otherwise." },
    { name: "ARCHIVE_S3_REGION", value: "us-east-1" },
    { name: "ARCHIVE_DIR", value: "/tmp/sluice-archive", note: "The spool of files on their way to the bucket." },
    {
      name: "MEDIA_S3_BUCKET",
      value: "sluice-media",
      note: "Required here: the video service and the transcoder run in different pods and share the media through it.",
    },
    { name: "MEDIA_S3_PREFIX", value: "" },
    { name: "MEDIA_S3_ENDPOINT", value: "", note: "Empty: AWS. Any S3-compatible store otherwise." },
    { name: "MEDIA_S3_REGION", value: "us-east-1" },
    {
      name: "ALERT_WEBHOOK_URL",
      value: "",
      note: "Where the alert sink delivers (its signing key, ALERT_WEBHOOK_SECRET, is in the Secret).",
    },
    {
      name: "ALERT_EMAIL_TO",
      value: "",
      note: "Who gets alert emails (the SMTP server, ALERT_SMTP_URL, is in the Secret).",
    },
    { name: "ALERT_EMAIL_FROM", value: "" },
    { name: "SLUICE_HTTP_HOST", value: "0.0.0.0", note: "Listen on the pod's address: probes, Services, Prometheus." },
    { name: "SLUICE_LOG_LEVEL", value: "info" },
    { name: "SLUICE_REPLICATION_FACTOR", value: "3", note: "Of the topics the setup Job creates." },
  ];
}

/**
 * The Secret's keys: the addresses that carry passwords, and the keys. The workloads take them with envFrom, after
 * the ConfigMap, so a Secret key also overrides a ConfigMap one (a SCHEMA_REGISTRY_URL with credentials in it).
 */
export const CREDENTIAL_KEYS: { name: string; example: string }[] = [
  { name: "DATABASE_URL", example: "postgres://sluice:CHANGE-ME@postgres:5432/sluice" },
  { name: "REDIS_URL", example: "redis://:CHANGE-ME@redis:6379" },
  { name: "ALERT_SMTP_URL", example: "" },
  { name: "ALERT_WEBHOOK_SECRET", example: "" },
  { name: "AWS_ACCESS_KEY_ID", example: "CHANGE-ME" },
  { name: "AWS_SECRET_ACCESS_KEY", example: "CHANGE-ME" },
];

/** A DNS label from a definition's name (archive-logs.app → archive-logs-app): the names of its objects. */
export function objectName(definitionName: string): string {
  return definitionName.toLowerCase().replace(/[^a-z0-9-]+/g, "-");
}

function selectorOf(name: string): Record<string, string> {
  return { "app.kubernetes.io/name": "sluice", "app.kubernetes.io/instance": name };
}

function labelsOf(name: string, component: string): Record<string, string> {
  return { ...selectorOf(name), "app.kubernetes.io/component": component, "app.kubernetes.io/version": pkg.version };
}

function metadataOf(name: string, component: string) {
  return { name, namespace: NAMESPACE, labels: labelsOf(name, component) };
}

function httpProbe(probePath: string, periodSeconds: number, failureThreshold: number): IProbe {
  return { httpGet: { path: probePath, port: "http" }, periodSeconds, timeoutSeconds: 2, failureThreshold };
}

interface ContainerSpec {
  name: string;
  args: string[];
  /** The port of /metrics and /health: probes and Prometheus. */
  port?: number;
  env?: IEnvVar[];
  cpu: string;
  memoryRequest: string;
  memoryLimit: string;
}

function container(spec: ContainerSpec): IContainer {
  // Typed apart, so a misspelt field in them fails the type check too (a spread of an untyped literal would not).
  const served: Pick<IContainer, "ports" | "startupProbe" | "livenessProbe" | "readinessProbe"> =
    spec.port === undefined
      ? {}
      : {
          ports: [{ name: "http", containerPort: spec.port }],
          // Start-up loads the code, bounds the heap (the process re-executes itself) and starts the HTTP server.
          startupProbe: httpProbe("/health/live", 2, 30),
          livenessProbe: httpProbe("/health/live", 10, 3),
          readinessProbe: httpProbe("/health/ready", 5, 3),
        };
  const env: Pick<IContainer, "env"> = spec.env?.length ? { env: spec.env } : {};
  return {
    name: spec.name,
    image: IMAGE,
    imagePullPolicy: "IfNotPresent",
    args: spec.args,
    envFrom: [{ configMapRef: { name: CONFIG_MAP } }, { secretRef: { name: CREDENTIALS_SECRET } }],
    ...env,
    resources: {
      requests: { cpu: spec.cpu, memory: spec.memoryRequest },
      limits: { memory: spec.memoryLimit },
    },
    ...served,
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
    volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
  };
}

/** What every pod shares: not root, no API token, no service links, /tmp its only writable place. */
function podSpec(containers: IContainer[], tmp: string, extra: Partial<IPodSpec> = {}): IPodSpec {
  return {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: UID,
      runAsGroup: UID,
      fsGroup: UID,
      seccompProfile: { type: "RuntimeDefault" },
    },
    ...extra,
    containers,
    volumes: [{ name: "tmp", emptyDir: { sizeLimit: tmp } }],
  };
}

const SCRAPE = { "prometheus.io/scrape": "true", "prometheus.io/path": "/metrics" };

function disruptionBudget(name: string, component: string): IPodDisruptionBudget {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: metadataOf(name, component),
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: selectorOf(name) },
      // A pod that is not ready (a stalled partition) may still be evicted: it must not block a node's drain.
      unhealthyPodEvictionPolicy: "AlwaysAllow",
    },
  };
}

/** One YAML document: the object, a comment above it, and comments above some of its fields (by path). */
interface Manifest {
  object: object;
  header?: string;
  notes?: [(string | number)[], string][];
}

function processorManifests(definition: Processor | Sink): Manifest[] {
  const name = objectName(definition.name);
  const component = isSink(definition) ? "sink" : "processor";
  const sizing = sizingOf(definition);
  const service: IService = {
    apiVersion: "v1",
    kind: "Service",
    metadata: metadataOf(name, component),
    spec: {
      clusterIP: "None",
      selector: selectorOf(name),
      ports: [{ name: "http", port: HTTP_PORT, targetPort: "http" }],
    },
  };
  const statefulSet: IStatefulSet = {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: metadataOf(name, component),
    spec: {
      serviceName: name,
      podManagementPolicy: "Parallel",
      selector: { matchLabels: selectorOf(name) },
      template: {
        metadata: {
          labels: labelsOf(name, component),
          annotations: { ...SCRAPE, "prometheus.io/port": String(HTTP_PORT) },
        },
        spec: podSpec(
          [
            container({
              name: "sluice",
              args: ["run", definition.name],
              port: HTTP_PORT,
              env: [
                { name: "SLUICE_INSTANCE_ID", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                { name: "SLUICE_HEAP_MB", value: String(sizing.heapMb) },
              ],
              cpu: sizing.cpu,
              memoryRequest: sizing.memoryRequest,
              memoryLimit: sizing.memoryLimit,
            }),
          ],
          sizing.tmp,
          { terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS },
        ),
      },
    },
  };
  const env = ["spec", "template", "spec", "containers", 0, "env"];
  return [
    { object: service, header: " Headless: the StatefulSet's network identity, and /metrics for Prometheus." },
    {
      object: statefulSet,
      header: [
        ` \`sluice run ${definition.name}\`: consumer group ${routeOf(definition).group}, input ${definition.input}.`,
        " A StatefulSet, not a Deployment: the consumers always use static membership, and their group.instance.id",
        " and transactional ids derive from SLUICE_INSTANCE_ID, the pod's name (…-0, …-1). A StatefulSet keeps the",
        " name across restarts and rollouts, so a restarted member takes its partitions back without a rebalance and",
        " its producer fences the old one's open transaction at once. A Deployment's pod gets a new name each time: a",
        " ghost member would hold its partitions until the session times out, and a transaction left open would",
        " hold back read_committed consumers until it times out.",
      ].join("\n"),
      notes: [
        [["spec", "podManagementPolicy"], " Members are independent: no reason to start them one by one."],
        [
          ["spec", "selector"],
          " No replicas: one by default; `kubectl scale` or KEDA (ops/k8s/keda) owns the count, and applying these\n files again does not reset it.",
        ],
        [[...env, 0], " The pod's name: stable across restarts, unique in the namespace."],
        [[...env, 1], " Pinned to run.ts's own choice, so the memory below stays sized for it."],
        [
          ["spec", "template", "spec", "containers", 0, "resources"],
          [
            ` Memory: ${sizing.heapMb} MB of heap plus the ${OUTSIDE_HEAP_MIB} MiB the bench measured outside it, rounded up; the limit`,
            ` leaves ${LIMIT_HEADROOM_MIB} MiB more. CPU: a request only; a limit would throttle the poll loop under bursts.`,
          ].join("\n"),
        ],
        [
          ["spec", "template", "spec", "terminationGracePeriodSeconds"],
          " SIGTERM drains: stops fetching, finishes or aborts in-flight work and commits, within 30s.",
        ],
      ],
    },
    { object: disruptionBudget(name, component) },
  ];
}

function kedaManifest(definition: Processor | Sink): Manifest {
  const name = objectName(definition.name);
  const route = routeOf(definition);
  const partitions = topicByName(route.input, TOPICS)?.partitions;
  if (partitions === undefined) throw new Error(`${definition.name}: its input ${route.input} is not in the catalog`);
  const scaledObject: IScaledObject = {
    apiVersion: "keda.sh/v1alpha1",
    kind: "ScaledObject",
    metadata: metadataOf(name, isSink(definition) ? "sink" : "processor"),
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "StatefulSet", name },
      minReplicaCount: 1,
      maxReplicaCount: partitions,
      advanced: { horizontalPodAutoscalerConfig: { behavior: { scaleDown: { stabilizationWindowSeconds: 300 } } } },
      triggers: [
        {
          type: "kafka",
          metadata: {
            bootstrapServersFromEnv: "KAFKA_BROKERS",
            consumerGroup: route.group,
            topic: route.input,
            lagThreshold: String(sizingOf(definition).lagThreshold),
          },
        },
      ],
    },
  };
  return {
    object: scaledObject,
    header: ` Scales ${name} on its group's lag on ${route.input}.`,
    notes: [
      [["spec", "minReplicaCount"], " Never zero: the process also runs the delay router and its group's retry tiers."],
      [["spec", "maxReplicaCount"], ` ${route.input}'s partitions: a member more would have none.`],
      [["spec", "advanced"], " Every change of replicas rebalances the group: scale down slowly."],
      [
        ["spec", "triggers"],
        " KEDA's \"Apache Kafka\" scaler (type kafka); bootstrapServersFromEnv reads the pod's KAFKA_BROKERS.",
      ],
    ],
  };
}

function httpServiceManifests({ name: service, port, tmp }: (typeof HTTP_SERVICES)[number]): Manifest[] {
  const name = `${service}-service`;
  const deployment: IDeployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: metadataOf(name, "service"),
    spec: {
      replicas: 2,
      selector: { matchLabels: selectorOf(name) },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: labelsOf(name, "service"), annotations: { ...SCRAPE, "prometheus.io/port": String(port) } },
        spec: podSpec(
          [
            container({
              name: "sluice",
              args: ["serve", service],
              port,
              cpu: "250m",
              memoryRequest: "192Mi",
              memoryLimit: "512Mi",
            }),
          ],
          tmp,
        ),
      },
    },
  };
  const serviceObject: IService = {
    apiVersion: "v1",
    kind: "Service",
    metadata: metadataOf(name, "service"),
    spec: { selector: selectorOf(name), ports: [{ name: "http", port, targetPort: "http" }] },
  };
  return [
    { object: serviceObject },
    {
      object: deployment,
      header: ` \`sluice serve ${service}\`: stateless (its state is in PostgreSQL, Redis and Kafka), so a Deployment.`,
      notes: [
        [
          ["spec", "template", "spec", "containers", 0, "resources"],
          " Not measured by the bench: `serve` does not bound its heap; the limit leaves V8 room to size it.",
        ],
      ],
    },
    { object: disruptionBudget(name, "service") },
  ];
}

function outboxRelayManifest(): Manifest {
  const name = "outbox-relay";
  const deployment: IDeployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: metadataOf(name, "outbox-relay"),
    spec: {
      replicas: 1,
      selector: { matchLabels: selectorOf(name) },
      template: {
        metadata: { labels: labelsOf(name, "outbox-relay") },
        spec: podSpec(
          [
            container({
              name: "sluice",
              args: ["outbox", "relay"],
              cpu: "100m",
              memoryRequest: "128Mi",
              memoryLimit: "256Mi",
            }),
          ],
          "256Mi",
        ),
      },
    },
  };
  return {
    object: deployment,
    header: [
      " `sluice outbox relay`: publishes what the order, user and video services wrote to their outbox. One relay",
      " publishes at a time (a PostgreSQL advisory lock); a second replica would wait as a standby. It serves no",
      " HTTP, so it has no probes.",
    ].join("\n"),
  };
}

function setupJobManifest(): Manifest {
  const name = "sluice-setup";
  const step = (stepName: string, args: string[]) =>
    container({ name: stepName, args, cpu: "100m", memoryRequest: "256Mi", memoryLimit: "512Mi" });
  const job: IJob = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: metadataOf(name, "setup"),
    spec: {
      backoffLimit: 6,
      template: {
        metadata: { labels: labelsOf(name, "setup") },
        spec: podSpec([step("schemas-register", ["schemas", "register"])], "256Mi", {
          restartPolicy: "Never",
          initContainers: [step("topics-apply", ["topics", "apply"])],
        }),
      },
    },
  };
  return {
    object: job,
    header: [
      " Creates the topics (with the retry tiers and DLQs the processors' routes derive) and registers the schemas:",
      " run it before the workloads, and again after a catalog change (delete the finished Job first).",
    ].join("\n"),
  };
}

function namespaceManifest(): Manifest {
  const namespace: INamespace = { apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE } };
  return { object: namespace };
}

function configMapManifest(): Manifest {
  const entries = configEntries();
  const configMap: IConfigMap = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: CONFIG_MAP, namespace: NAMESPACE, labels: { "app.kubernetes.io/name": "sluice" } },
    data: Object.fromEntries(entries.map((e) => [e.name, e.value])),
  };
  return {
    object: configMap,
    header: [
      " Addresses and settings, without credentials (those are in the Secret sluice-credentials).",
      " An empty value is the same as unset. Set yours with an overlay (ops/k8s/README.md), not here; any other",
      " setting the project README lists can be added the same way.",
    ].join("\n"),
    notes: entries.flatMap((e): [(string | number)[], string][] => (e.note ? [[["data", e.name], ` ${e.note}`]] : [])),
  };
}

function credentialsExample(): string {
  return [
    "# The Secret sluice-credentials, which the workloads read with envFrom. PLACEHOLDERS ONLY (CHANGE-ME): copy this",
    "# file out of the repository, fill it in, and create the Secret from the copy:",
    `#   kubectl -n ${NAMESPACE} create secret generic ${CREDENTIALS_SECRET} --from-env-file=credentials.env`,
    "# An empty value is the same as unset. Without AWS keys the S3 client uses the pod's own identity (IRSA and the",
    "# like): leave them out then.",
    ...CREDENTIAL_KEYS.map((k) => `${k.name}=${k.example}`),
    "",
  ].join("\n");
}

interface Kustomization {
  apiVersion: "kustomize.config.k8s.io/v1beta1";
  kind: "Kustomization";
  resources: string[];
}

function kustomization(resources: string[], header: string): Manifest {
  const object: Kustomization = { apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources };
  return { object, header };
}

const GENERATED = " Rendered by ops/k8s/render.ts from deploymentDefinitions(): edit the script, not this file.";

function yamlOf(manifests: Manifest[]): string {
  return manifests
    .map((manifest, i) => {
      const doc = new Document(manifest.object);
      const comments = [...(i === 0 ? [GENERATED] : []), ...(manifest.header ? [manifest.header] : [])];
      if (comments.length > 0) doc.commentBefore = comments.join("\n\n");
      for (const [fieldPath, text] of manifest.notes ?? []) noteField(doc, fieldPath, text);
      return doc.toString({ lineWidth: 0 });
    })
    .join("---\n");
}

/** A comment on the line above a field: on its key in a mapping, on the item itself in a sequence. */
function noteField(doc: Document, fieldPath: (string | number)[], text: string): void {
  const last = fieldPath.at(-1);
  const parent = doc.getIn(fieldPath.slice(0, -1), true);
  const node =
    typeof last === "number"
      ? doc.getIn(fieldPath, true)
      : isMap(parent)
        ? parent.items.find((pair) => isScalar(pair.key) && pair.key.value === last)?.key
        : undefined;
  if (!isNode(node)) throw new Error(`render: no field ${fieldPath.join(".")} to comment on`);
  node.commentBefore = text;
}

/** Every file this script writes, by its path under ops/k8s/, with its text. */
export function renderManifests(): Map<string, string> {
  const files = new Map<string, string>();
  const definitions = deploymentDefinitions();
  files.set("base/namespace.yaml", yamlOf([namespaceManifest()]));
  files.set("base/config.yaml", yamlOf([configMapManifest()]));
  files.set("base/credentials.example.env", credentialsExample());
  files.set(
    "base/kustomization.yaml",
    yamlOf([kustomization(["namespace.yaml", "config.yaml"], " The namespace and the ConfigMap.")]),
  );
  files.set("setup/setup-job.yaml", yamlOf([setupJobManifest()]));
  files.set(
    "setup/kustomization.yaml",
    yamlOf([
      kustomization(["../base", "setup-job.yaml"], " kubectl apply -k ops/k8s/setup: topics and schemas, first."),
    ]),
  );
  const workloads: string[] = [];
  const scaledObjects: string[] = [];
  for (const definition of definitions) {
    const file = `${objectName(definition.name)}.yaml`;
    files.set(`processors/${file}`, yamlOf(processorManifests(definition)));
    workloads.push(`processors/${file}`);
    if (NOT_AUTOSCALED.has(definition.name)) continue;
    files.set(`keda/${file}`, yamlOf([kedaManifest(definition)]));
    scaledObjects.push(file);
  }
  for (const service of HTTP_SERVICES) {
    const file = `services/${service.name}-service.yaml`;
    files.set(file, yamlOf(httpServiceManifests(service)));
    workloads.push(file);
  }
  files.set("services/outbox-relay.yaml", yamlOf([outboxRelayManifest()]));
  workloads.push("services/outbox-relay.yaml");
  files.set(
    "kustomization.yaml",
    yamlOf([kustomization(["base", ...workloads], " kubectl apply -k ops/k8s: every processor, sink and service.")]),
  );
  files.set(
    "keda/kustomization.yaml",
    yamlOf([
      kustomization(
        scaledObjects,
        " Opt-in: kubectl apply -k ops/k8s/keda, on a cluster with KEDA, after the workloads (ops/k8s).",
      ),
    ]),
  );
  return files;
}

/** The files under ops/k8s/ that this script owns (all but the hand-written ones), as they are on disk. */
export function committedManifests(): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(K8S_DIR, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const relative = path.relative(K8S_DIR, path.join(entry.parentPath, entry.name)).split(path.sep).join("/");
    if (!HAND_WRITTEN.has(relative)) files.set(relative, readFileSync(path.join(K8S_DIR, relative), "utf8"));
  }
  return files;
}

/** How the files on disk differ from the rendered ones: one line a file. */
export function staleManifests(): string[] {
  const rendered = renderManifests();
  const committed = committedManifests();
  const stale: string[] = [];
  for (const [file, text] of rendered) {
    const current = committed.get(file);
    if (current !== text) stale.push(`${file}: ${current === undefined ? "missing" : "differs"}`);
  }
  for (const file of committed.keys()) if (!rendered.has(file)) stale.push(`${file}: not rendered any more`);
  return stale.sort();
}

function write(): void {
  const rendered = renderManifests();
  for (const file of committedManifests().keys()) {
    if (!rendered.has(file)) {
      rmSync(path.join(K8S_DIR, file));
      console.log(`removed ops/k8s/${file}`);
    }
  }
  const committed = committedManifests();
  for (const [file, text] of rendered) {
    if (committed.get(file) === text) continue;
    mkdirSync(path.dirname(path.join(K8S_DIR, file)), { recursive: true });
    writeFileSync(path.join(K8S_DIR, file), text);
    console.log(`wrote ops/k8s/${file}`);
  }
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  if (args.length > 1 || (args.length === 1 && args[0] !== "--check")) {
    console.error("usage: node ops/k8s/render.ts [--check]");
    process.exit(2);
  }
  if (args[0] === "--check") {
    const stale = staleManifests();
    if (stale.length > 0) {
      console.error(`ops/k8s is stale: run \`node ops/k8s/render.ts\` and commit it\n  ${stale.join("\n  ")}`);
      process.exit(1);
    }
  } else {
    write();
  }
}
