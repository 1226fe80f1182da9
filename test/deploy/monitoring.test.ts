/**
 * deploy/grafana and deploy/prometheus against the code and promtool: the alert rules pass
 * `promtool check rules` and their unit tests (`promtool test rules`), every query of the dashboard
 * is valid PromQL, and every metric either reads is one the services export today
 * (exported-metrics.ts). The optional ServiceMonitor component scrapes every process's /metrics.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { exportedMetricNames, metricsIn } from './exported-metrics.js';
import { adminPort, configFor, kindOfMain, ROOT } from './facts.js';
import { byKind, containersOf, effectiveEnv, matches, podLabels, resolvePort, workloads } from './k8s.js';
import { ensureRenderer, type K8sObject, renderObjects } from './kustomize-render.js';
import { ensurePromtool, promtool } from './promtool.js';

const RULES = 'deploy/prometheus/im-alerts.yaml';
const RULE_TESTS = 'deploy/prometheus/im-alerts.test.yaml';
const DASHBOARD = 'deploy/grafana/im-cluster.json';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rules = (): Rule[] =>
  (parse(readFileSync(join(ROOT, RULES), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap(
    (g) => g.rules,
  );

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos?: { h: number; w: number; x: number; y: number };
  datasource?: { uid: string };
  targets?: { refId: string; expr: string; datasource?: { uid: string } }[];
}

const dashboard = () =>
  JSON.parse(readFileSync(join(ROOT, DASHBOARD), 'utf8')) as {
    uid: string;
    panels: Panel[];
    templating: { list: { name: string; type: string }[] };
  };
const queries = () => dashboard().panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p, ...t })));

let exported: Set<string>;

beforeAll(async () => {
  ensurePromtool(600_000);
  exported = await exportedMetricNames();
}, 660_000);

describe('Prometheus alert rules (deploy/prometheus)', () => {
  it('pass promtool check rules', () => {
    const r = promtool(['check', 'rules', RULES]);
    expect(r.output).toContain('SUCCESS');
    expect(r.code, r.output).toBe(0);
  });

  it('pass their promtool unit tests, and every alert has one that fires it', () => {
    const r = promtool(['test', 'rules', RULE_TESTS]);
    expect(r.code, r.output).toBe(0);
    const tests = parse(readFileSync(join(ROOT, RULE_TESTS), 'utf8')) as {
      tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const fired = new Set(
      tests.tests.flatMap((t) =>
        (t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname),
      ),
    );
    const alerts = rules().flatMap((r) => (r.alert ? [r.alert] : []));
    expect(alerts.length).toBeGreaterThanOrEqual(8);
    expect(alerts.filter((a) => !fired.has(a))).toEqual([]);
  });

  it('give every alert a severity, a summary and a description', () => {
    for (const r of rules().filter((r) => r.alert)) {
      expect(['warning', 'critical'], r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      expect(r.annotations?.description, r.alert).toBeTruthy();
    }
  });

  it('read only metrics the services export', () => {
    for (const r of rules()) {
      const names = metricsIn(r.expr);
      expect(names.length, r.alert).toBeGreaterThan(0);
      expect(
        names.filter((n) => !exported.has(n)),
        r.alert,
      ).toEqual([]);
    }
  });

  it('fail promtool on a broken rule (the check is real)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'im-rules-'));
    try {
      const file = join(dir, 'broken.yaml');
      writeFileSync(
        file,
        stringify({
          groups: [{ name: 'x', rules: [{ alert: 'X', expr: 'sum(rate(im_edge_connections[5m]' }] }],
        }),
      );
      expect(promtool(['check', 'rules', file]).code).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Grafana dashboard (deploy/grafana)', () => {
  it('is a dashboard with a Prometheus data source variable that every query uses', () => {
    const d = dashboard();
    expect(d.uid).toBe('im-cluster');
    expect(d.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource' }),
    );
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of d.panels.filter((p) => p.type !== 'row')) {
      expect(p.gridPos, p.title).toBeDefined();
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
  });

  it('queries only metrics the services export', () => {
    for (const q of queries()) {
      const names = metricsIn(q.expr);
      expect(names.length, `${q.panel.title} ${q.refId}`).toBeGreaterThan(0);
      expect(
        names.filter((n) => !exported.has(n)),
        `${q.panel.title} ${q.refId}: ${q.expr}`,
      ).toEqual([]);
    }
  });

  it('shows what an operator watches (issue 12 item 4)', () => {
    const used = new Set(queries().flatMap((q) => metricsIn(q.expr)));
    const exprs = queries().map((q) => q.expr);
    for (const m of [
      'im_edge_connections', // connections per edge
      'im_edge_frames_out_total', // logins/s, messages/s by command and status
      'im_edge_send_ack_seconds_bucket', // send → ack latency
      'im_edge_push_seconds_bucket', // push latency
      'im_kafka_consumer_lag', // Kafka consumer lag
      'im_fanout_queue_depth', // fan-out queue depth
      'im_kafka_produce_total', // backend errors
      'im_storage_append_seconds_count',
      'im_grpc_server_duration_seconds_count',
    ]) {
      expect(used, m).toContain(m);
    }
    expect(exprs.some((e) => /command="LOGIN"/.test(e))).toBe(true);
    expect(exprs.some((e) => /by \(command, status\)/.test(e))).toBe(true);
  });

  it('has only valid PromQL (each query checked by promtool as a recording rule)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'im-dashboard-'));
    try {
      const file = join(dir, 'dashboard-queries.yaml');
      const recorded = queries().map((q) => ({
        record: `dashboard:panel${q.panel.id}:${q.refId}`,
        // Grafana's own variables, as Grafana would fill them in.
        expr: q.expr.replaceAll('$__rate_interval', '5m').replaceAll('$__interval', '1m'),
      }));
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: recorded }] }));
      const r = promtool(['check', 'rules', file]);
      expect(r.code, r.output).toBe(0);
      expect(r.output).toContain(`SUCCESS: ${recorded.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const renderer = ensureRenderer();
describe('ServiceMonitor component (deploy/components/servicemonitor)', () => {
  let objects: K8sObject[] = [];
  beforeAll(() => {
    objects = renderObjects(renderer, 'deploy/overlays/example-monitoring');
  });

  it('is left out of the base and the example overlay (it needs the operator CRDs)', () => {
    for (const dir of ['deploy/base', 'deploy/overlays/example']) {
      expect(byKind(renderObjects(renderer, dir), 'ServiceMonitor')).toEqual([]);
    }
  });

  it("scrapes /metrics on the admin port of every process, in the overlay's namespace", () => {
    const monitors = byKind(objects, 'ServiceMonitor');
    expect(monitors).toHaveLength(1);
    const sm = monitors[0] as K8sObject;
    expect(sm.metadata.namespace).toBe('im-example');
    const services = byKind(objects, 'Service').filter((s) =>
      matches(sm.spec.selector.matchLabels, s.metadata.labels ?? {}),
    );
    for (const endpoint of sm.spec.endpoints) expect(endpoint.path ?? '/metrics').toBe('/metrics');
    const scraped = new Set<string>();
    for (const w of workloads(objects)) {
      for (const c of containersOf(w)) {
        if (!kindOfMain(c.args?.[0])) continue;
        const metrics = adminPort(configFor(effectiveEnv(objects, w, c).env));
        // Some selected Service selects these pods and names, on an endpoint's port, their /metrics port.
        const hit = services.some(
          (s) =>
            matches(s.spec.selector, podLabels(w)) &&
            s.spec.ports.some(
              (p: K8sObject) =>
                sm.spec.endpoints.some((e: K8sObject) => e.port === p.name) &&
                resolvePort(c, p.targetPort ?? p.port) === metrics,
            ),
        );
        expect(hit, `${w.kind}/${w.metadata.name} scraped`).toBe(true);
        scraped.add(w.metadata.name);
      }
    }
    expect(scraped.size).toBe(5);
  });
});
