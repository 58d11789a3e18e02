/**
 * The Kubernetes manifests, written once as typed objects (kubernetes-models and
 * @kubernetes-models/keda): a misspelt field fails the typecheck, a wrong type fails
 * validate(). `npm run deploy:kubernetes` writes the YAML files next to this module;
 * test/deploy/kubernetes.test.ts fails when the files and these objects drift apart.
 */
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import type { IContainer, IPodSpec, IProbe } from 'kubernetes-models/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';

export const NAMESPACE = 'herald';
export const IMAGE = 'herald:0.1.0';
export const HTTP_PORT = 8080;
/** HERALD_SHUTDOWN_GRACE in the ConfigMap; pods get TERMINATION_GRACE_SECONDS, well above it. */
export const SHUTDOWN_GRACE = '25s';
export const TERMINATION_GRACE_SECONDS = 40;
/** Backlog per worker replica the autoscalers aim for (KEDA threshold, HPA averageValue). */
export const BACKLOG_PER_WORKER = 200;
export const PROMETHEUS = 'http://prometheus-operated.monitoring.svc:9090';
export const BACKLOG_QUERY = `max(herald_backlog{namespace="${NAMESPACE}"})`;

const labels = (component: string): Record<string, string> => ({
  'app.kubernetes.io/name': 'herald',
  'app.kubernetes.io/component': component,
});

const probe = (path: string, period: number, failures: number): IProbe => ({
  httpGet: { path, port: 'http' },
  periodSeconds: period,
  timeoutSeconds: 2,
  failureThreshold: failures,
});

/** The outbox and /tmp are the only places herald writes; the root filesystem is read-only. */
const WRITABLE = [
  { name: 'outbox', mountPath: '/app/outbox' },
  { name: 'tmp', mountPath: '/tmp' },
];

function container(name: string, args: string[], resources: IContainer['resources'], serving = true): IContainer {
  return {
    name,
    image: IMAGE,
    args,
    envFrom: [{ configMapRef: { name: 'herald-config' } }, { secretRef: { name: 'herald-secrets' } }],
    ...(serving
      ? {
          ports: [{ name: 'http', containerPort: HTTP_PORT }],
          // Liveness: the process serves HTTP. Readiness: Postgres, Redis and the workers.
          livenessProbe: probe('/healthz', 10, 3),
          readinessProbe: probe('/readyz', 5, 2),
          startupProbe: probe('/healthz', 2, 30),
        }
      : {}),
    resources,
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: WRITABLE,
  };
}

function podSpec(c: IContainer, restartPolicy?: 'OnFailure'): IPodSpec {
  return {
    ...(restartPolicy ? { restartPolicy } : {}),
    terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
    securityContext: {
      runAsNonRoot: true,
      // The image's `node` user.
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    containers: [c],
    volumes: WRITABLE.map((v) => ({ name: v.name, emptyDir: { sizeLimit: '256Mi' } })),
  };
}

const scrape = { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(HTTP_PORT), 'prometheus.io/path': '/metrics' };

function deployment(component: string, replicas: number, args: string[], resources: IContainer['resources']): Deployment {
  return new Deployment({
    metadata: { name: `herald-${component}`, namespace: NAMESPACE, labels: labels(component) },
    spec: {
      replicas,
      selector: { matchLabels: labels(component) },
      // Never below the current count while rolling: in-flight jobs drain, others take over.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: labels(component), annotations: scrape },
        spec: podSpec(container('herald', args, resources)),
      },
    },
  });
}

export type Manifest = { toJSON(): unknown; validate(): void };

/** File name (relative to deploy/kubernetes) → its objects, in order. */
export function manifests(): Record<string, Manifest[]> {
  return {
    'namespace.yaml': [new Namespace({ metadata: { name: NAMESPACE, labels: { 'app.kubernetes.io/name': 'herald' } } })],
    'config.yaml': [
      new ConfigMap({
        metadata: { name: 'herald-config', namespace: NAMESPACE, labels: labels('config') },
        data: {
          HERALD_REDIS_MODE: 'standalone',
          HERALD_QUEUE_PREFIX: 'herald',
          HERALD_HTTP_PORT: String(HTTP_PORT),
          HERALD_SHUTDOWN_GRACE: SHUTDOWN_GRACE,
          HERALD_OUTBOX_DIR: '/app/outbox',
          HERALD_DASHBOARD_READONLY: 'true',
          LOG_LEVEL: 'info',
          ZITADEL_NOTIFICATIONS_WORKERS: '25',
          ZITADEL_NOTIFICATIONS_BULKLIMIT: '100',
        },
      }),
      new Secret({
        metadata: { name: 'herald-secrets', namespace: NAMESPACE, labels: labels('config') },
        type: 'Opaque',
        // Placeholders: create the real Secret out of band (sealed-secrets, external-secrets, …).
        stringData: {
          DATABASE_URL: 'postgres://herald:CHANGE-ME@postgres.zitadel.svc:5432/zitadel?sslmode=require',
          REDIS_URL: 'rediss://default:CHANGE-ME@redis.herald.svc:6379',
          ZITADEL_MASTERKEY: 'CHANGE-ME-32-CHARACTER-MASTERKEY',
          SMTP_URL: 'smtps://herald:CHANGE-ME@smtp.example.com:465',
          SMTP_FROM: 'no-reply@example.com',
          HERALD_DASHBOARD_USER: 'admin',
          HERALD_DASHBOARD_PASSWORD: 'CHANGE-ME',
        },
      }),
    ],
    'migrate-job.yaml': [
      new Job({
        metadata: { name: 'herald-migrate', namespace: NAMESPACE, labels: labels('migrate') },
        spec: {
          backoffLimit: 6,
          ttlSecondsAfterFinished: 3600,
          template: {
            metadata: { labels: labels('migrate') },
            spec: podSpec(
              container('migrate', ['migrate'], { requests: { cpu: '50m', memory: '96Mi' }, limits: { memory: '256Mi' } }, false),
              'OnFailure',
            ),
          },
        },
      }),
    ],
    'producer.yaml': [
      deployment('producer', 2, ['start', '--role', 'producer'], { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '384Mi' } }),
    ],
    'worker.yaml': [
      deployment('worker', 2, ['start', '--role', 'worker', '--role', 'retry-worker'], {
        requests: { cpu: '250m', memory: '192Mi' },
        limits: { memory: '512Mi' },
      }),
      new PodDisruptionBudget({
        metadata: { name: 'herald-worker', namespace: NAMESPACE, labels: labels('worker') },
        spec: { minAvailable: 1, selector: { matchLabels: labels('worker') } },
      }),
    ],
    'dashboard.yaml': [
      deployment('dashboard', 1, ['start', '--role', 'dashboard'], { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } }),
      new Service({
        metadata: { name: 'herald-dashboard', namespace: NAMESPACE, labels: labels('dashboard') },
        spec: { selector: labels('dashboard'), ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
      }),
    ],
    'autoscaling/keda-scaledobject.yaml': [
      new ScaledObject({
        metadata: { name: 'herald-worker', namespace: NAMESPACE, labels: labels('worker') },
        spec: {
          scaleTargetRef: { name: 'herald-worker' },
          minReplicaCount: 1,
          maxReplicaCount: 20,
          pollingInterval: 15,
          cooldownPeriod: 300,
          advanced: {
            horizontalPodAutoscalerConfig: {
              behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
            },
          },
          triggers: [
            {
              type: 'prometheus',
              // AverageValue: the HPA divides the query's total by the worker replicas, so
              // the replicas become ceil(backlog / threshold).
              metricType: 'AverageValue',
              metadata: {
                serverAddress: PROMETHEUS,
                query: BACKLOG_QUERY,
                threshold: String(BACKLOG_PER_WORKER),
                activationThreshold: '0',
              },
            },
          ],
        },
      }),
    ],
    'autoscaling/hpa.yaml': [
      new HorizontalPodAutoscaler({
        metadata: { name: 'herald-worker', namespace: NAMESPACE, labels: labels('worker') },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'herald-worker' },
          minReplicas: 1,
          maxReplicas: 20,
          metrics: [
            {
              type: 'External',
              external: {
                // Served by prometheus-adapter (autoscaling/prometheus-adapter-values.yaml).
                metric: { name: 'herald_backlog', selector: { matchLabels: { namespace: NAMESPACE } } },
                target: { type: 'AverageValue', averageValue: String(BACKLOG_PER_WORKER) },
              },
            },
          ],
          behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
        },
      }),
    ],
  };
}

/** kustomization.yaml: the base (autoscaling is chosen separately). */
export function kustomization(): Record<string, unknown> {
  return {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    namespace: NAMESPACE,
    resources: ['namespace.yaml', 'config.yaml', 'migrate-job.yaml', 'producer.yaml', 'worker.yaml', 'dashboard.yaml'],
    images: [{ name: 'herald', newName: 'herald', newTag: '0.1.0' }],
  };
}

/** prometheus-adapter Helm values: herald_backlog as an external metric (for the HPA). */
export function prometheusAdapterValues(): Record<string, unknown> {
  return {
    rules: {
      external: [
        {
          seriesQuery: 'herald_backlog{namespace!=""}',
          resources: { overrides: { namespace: { resource: 'namespace' } } },
          name: { as: 'herald_backlog' },
          // Every producer replica reports the same figure: max, never sum.
          metricsQuery: 'max(<<.Series>>{<<.LabelMatchers>>}) by (namespace)',
        },
      ],
    },
  };
}
