/**
 * deploy/kubernetes: the YAML files are what manifests.ts generates, every object validates
 * against its Kubernetes (or KEDA) schema, and the objects agree with each other and with
 * herald's own configuration (grace periods, probe paths, ports, selectors, the backlog metric).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import type { IContainer, IPodTemplateSpec } from 'kubernetes-models/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

import { DIR, renderAll } from '../../deploy/kubernetes/generate.js';
import { ROLES } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';

type Model = { validate(): void; toJSON(): unknown };
const MODELS: Record<string, new (data: never) => Model> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};

interface Doc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

const rendered = renderAll();
/** Every object of every generated file, read back from disk. */
const docs: { file: string; doc: Doc }[] = [...rendered.keys()]
  .filter((f) => !f.endsWith('kustomization.yaml') && !f.endsWith('prometheus-adapter-values.yaml'))
  .flatMap((file) => parseAllDocuments(readFileSync(path.join(DIR, file), 'utf8')).map((d) => ({ file, doc: d.toJS() as Doc })));
const find = (kind: string, name: string): Doc => {
  const d = docs.find((x) => x.doc.kind === kind && x.doc.metadata.name === name)?.doc;
  if (!d) throw new Error(`no ${kind} ${name}`);
  return d;
};
const deployments = docs.filter((d) => d.doc.kind === 'Deployment').map((d) => d.doc);
const template = (d: Doc): IPodTemplateSpec => d.spec?.template as IPodTemplateSpec;
const containerOf = (d: Doc): IContainer => {
  const c = template(d).spec?.containers[0];
  if (!c) throw new Error(`${d.metadata.name} has no container`);
  return c;
};
const configMap = find('ConfigMap', 'herald-config');
const secret = find('Secret', 'herald-secrets');
/** herald's own configuration as the pods get it (ConfigMap + Secret through envFrom). */
const cfg = loadConfig({ ...configMap.data, ...secret.stringData }, () => '', '/app');

describe('deploy/kubernetes', () => {
  it('the YAML files are exactly what manifests.ts generates (npm run deploy:kubernetes)', () => {
    for (const [file, text] of rendered) expect(readFileSync(path.join(DIR, file), 'utf8'), file).toBe(text);
    const kustomization = parseAllDocuments(rendered.get('kustomization.yaml') ?? '')[0]?.toJS() as { resources: string[] };
    for (const r of kustomization.resources) expect(rendered.has(r), r).toBe(true);
  });

  it('every object validates against its Kubernetes or KEDA schema', () => {
    expect(docs.length).toBeGreaterThanOrEqual(11);
    for (const { file, doc } of docs) {
      const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
      expect(Model, `${file}: ${doc.apiVersion} ${doc.kind} has no model`).toBeDefined();
      expect(() => new Model!(doc as never).validate(), `${file}: ${doc.kind} ${doc.metadata.name}`).not.toThrow();
    }
  });

  it('a wrong field type fails validation (the check can fail)', () => {
    const bad = structuredClone(find('Deployment', 'herald-worker'));
    (template(bad).spec?.containers[0]?.ports ?? [])[0]!.containerPort = 'eighty' as never;
    expect(() => new Deployment(bad as never).validate()).toThrow(/containerPort/);
  });

  it('the ConfigMap and Secret are a valid herald configuration', () => {
    expect(cfg.http.port).toBe(8080);
    expect(cfg.outboxDir).toBe('/app/outbox');
    expect(cfg.warnings).toEqual([]);
  });

  it('pods outlive the shutdown grace, probe /healthz and /readyz on the served port, and run locked down', () => {
    const pods = [...deployments, find('Job', 'herald-migrate')];
    for (const d of pods) {
      const spec = template(d).spec!;
      const c = containerOf(d);
      const name = d.metadata.name;
      // SIGTERM → in-flight jobs drain within HERALD_SHUTDOWN_GRACE; kubelet must not SIGKILL first.
      expect((spec.terminationGracePeriodSeconds ?? 30) * 1000, name).toBeGreaterThan(cfg.shutdownGraceMs + 5000);
      expect(spec.securityContext?.runAsNonRoot, name).toBe(true);
      expect(c.securityContext?.readOnlyRootFilesystem, name).toBe(true);
      expect(c.securityContext?.allowPrivilegeEscalation, name).toBe(false);
      expect(c.securityContext?.capabilities?.drop, name).toEqual(['ALL']);
      expect(c.resources?.requests?.cpu, name).toBeTruthy();
      expect(c.resources?.requests?.memory, name).toBeTruthy();
      // The only writable places are emptyDirs: the outbox and /tmp.
      const volumes = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
      const mounts = c.volumeMounts ?? [];
      expect(mounts.map((m) => m.mountPath).sort(), name).toEqual([cfg.outboxDir, '/tmp'].sort());
      for (const m of mounts) expect(volumes.get(m.name)?.emptyDir, `${name} ${m.name}`).toBeDefined();
      expect(
        c.envFrom?.map((e) => e.configMapRef?.name ?? e.secretRef?.name),
        name,
      ).toEqual(['herald-config', 'herald-secrets']);
      // Arguments are herald commands and roles it knows.
      const roles = (c.args ?? []).filter((_, i, a) => a[i - 1] === '--role');
      for (const r of roles) expect(ROLES as readonly string[], name).toContain(r);
    }
    for (const d of deployments) {
      const c = containerOf(d);
      const name = d.metadata.name;
      expect(c.args?.[0], name).toBe('start');
      expect(c.ports?.find((p) => p.name === 'http')?.containerPort, name).toBe(cfg.http.port);
      expect(c.livenessProbe?.httpGet, name).toEqual({ path: '/healthz', port: 'http' });
      expect(c.readinessProbe?.httpGet, name).toEqual({ path: '/readyz', port: 'http' });
      // A liveness failure must not come from a slow dependency check.
      expect(c.livenessProbe?.httpGet?.path, name).not.toBe('/readyz');
      // Selectors match the pods they own.
      const selector = (d.spec?.selector as { matchLabels: Record<string, string> }).matchLabels;
      expect(template(d).metadata?.labels, name).toMatchObject(selector);
      expect(template(d).metadata?.annotations?.['prometheus.io/port'], name).toBe(String(cfg.http.port));
    }
    expect(containerOf(find('Job', 'herald-migrate')).args).toEqual(['migrate']);
    expect(template(find('Job', 'herald-migrate')).spec?.restartPolicy).toBe('OnFailure');
  });

  it('the Service, the PodDisruptionBudget and both autoscalers point at the right pods', () => {
    const labelsOf = (name: string): Record<string, string> => template(find('Deployment', name)).metadata?.labels ?? {};
    const service = find('Service', 'herald-dashboard').spec as { selector: Record<string, string>; ports: { targetPort: string }[] };
    expect(labelsOf('herald-dashboard')).toMatchObject(service.selector);
    expect(labelsOf('herald-worker')).not.toMatchObject(service.selector);
    expect(service.ports[0]?.targetPort).toBe('http');
    expect(containerOf(find('Deployment', 'herald-dashboard')).args).toEqual(['start', '--role', 'dashboard']);

    const pdb = find('PodDisruptionBudget', 'herald-worker').spec as { selector: { matchLabels: Record<string, string> }; minAvailable: number };
    expect(labelsOf('herald-worker')).toMatchObject(pdb.selector.matchLabels);
    expect(pdb.minAvailable).toBeLessThan(find('Deployment', 'herald-worker').spec?.replicas as number);

    const keda = find('ScaledObject', 'herald-worker').spec as {
      scaleTargetRef: { name: string };
      triggers: { type: string; metricType: string; metadata: Record<string, string> }[];
    };
    expect(keda.scaleTargetRef.name).toBe('herald-worker');
    const trigger = keda.triggers[0];
    expect(trigger?.type).toBe('prometheus');
    // The total backlog (max over producer replicas); the HPA divides it by the replicas.
    expect(trigger?.metadata.query).toMatch(/^max\(herald_backlog\{/);
    expect(trigger?.metricType).toBe('AverageValue');
    expect(Number(trigger?.metadata.threshold)).toBeGreaterThan(0);

    const hpa = find('HorizontalPodAutoscaler', 'herald-worker').spec as {
      scaleTargetRef: { kind: string; name: string };
      metrics: { type: string; external: { metric: { name: string }; target: { type: string; averageValue: string } } }[];
    };
    expect(hpa.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'herald-worker' });
    expect(hpa.metrics[0]?.external.metric.name).toBe('herald_backlog');
    expect(hpa.metrics[0]?.external.target).toEqual({ type: 'AverageValue', averageValue: trigger?.metadata.threshold });
  });
});
