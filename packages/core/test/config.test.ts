/**
 * The one config loader (config.ts): every env value goes through ENV_SCHEMA, and every error names
 * the env var it is about; embedded mode differs from the cluster only by EMBEDDED_DEFAULTS.
 */
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  defaultConfig,
  EMBEDDED_DEFAULTS,
  ENV_SCHEMA,
  ENV_VARS,
  loadConfig,
  MIN_HS256_SECRET_BYTES,
} from '../src/config.js';

/** The ConfigError loadConfig throws for env, as its message. */
function errorOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`no ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig: the schema', () => {
  it('has a schema entry for every env name, and no other', () => {
    expect(Object.keys(ENV_SCHEMA).sort()).toEqual(Object.keys(ENV_VARS).sort());
  });

  it('reads valid values into their types', () => {
    const cfg = loadConfig({
      IM_EDGE_PORT: '7300',
      IM_ADMIN_PORT: '0',
      IM_EDGE_PLAIN: 'false',
      IM_ADMIN_DEV_TOKENS: '1',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'pretty',
      KAFKA_BROKERS: 'k1:9092, k2:9093',
      IM_MESSAGE_ADDR: '[::1]:7201',
      REDIS_URL: 'rediss://user:pw@redis.internal:6380',
      IM_WORKER_ID: '1023',
    });
    expect(cfg.edge.port).toBe(7300);
    expect(cfg.admin.port).toBe(0);
    expect(cfg.edge.plain).toBe(false);
    expect(cfg.admin.devTokens).toBe(true);
    expect(cfg.logLevel).toBe('debug');
    expect(cfg.logFormat).toBe('pretty');
    expect(cfg.kafkaBrokers).toEqual(['k1:9092', 'k2:9093']);
    expect(cfg.grpc.messageAddr).toBe('[::1]:7201');
    expect(cfg.message.workerId).toBe(1023);
    expect(cfg.message.leaseWorkerId).toBe(false);
  });

  it.each([
    ['IM_EDGE_PORT', '70000', /^IM_EDGE_PORT must be a port number from 0 to 65535.*got "70000"$/],
    ['IM_EDGE_PORT', '71.5', /^IM_EDGE_PORT must be a port number/],
    ['IM_ADMIN_PORT', '-1', /^IM_ADMIN_PORT must be a port number/],
    ['IM_EDGE_TLS_PORT', 'https', /^IM_EDGE_TLS_PORT must be a port number.*got "https"$/],
    ['IM_HEARTBEAT_SECONDS', '0', /^IM_HEARTBEAT_SECONDS must be an integer from 1 to 3600, got "0"$/],
    ['IM_DRAIN_GRACE_MS', '1e4', /^IM_DRAIN_GRACE_MS must be milliseconds/],
    ['IM_WORKER_ID', '1024', /^IM_WORKER_ID must be an integer from 0 to 1023/],
    [
      'LOG_LEVEL',
      'verbose',
      /^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"$/,
    ],
    ['LOG_FORMAT', 'text', /^LOG_FORMAT must be one of auto, json, pretty, got "text"$/],
    ['IM_EDGE_PLAIN', 'yes', /^IM_EDGE_PLAIN must be true or false \(or 1 \/ 0\), got "yes"$/],
    ['IM_ADMIN_DEV_TOKENS', 'ture', /^IM_ADMIN_DEV_TOKENS must be true or false/],
    ['KAFKA_BROKERS', 'kafka', /^KAFKA_BROKERS must be a comma-separated list of host:port, got "kafka"$/],
    ['IM_STORAGE_ADDR', 'storage:99999', /^IM_STORAGE_ADDR must be host:port/],
    ['IM_NODE_ID', 'edge/1', /^IM_NODE_ID must be letters, digits/],
    ['REDIS_URL', 'http://redis:6379', /^REDIS_URL must be a URL \(redis:\/\/, rediss:\/\/\)/],
  ])('%s=%s is refused, naming the env var', (name, value, message) => {
    expect(errorOf({ [name]: value })).toMatch(message);
  });

  it('lists every bad value at once, one line each', () => {
    const msg = errorOf({ IM_EDGE_PORT: 'x', LOG_LEVEL: 'loud', IM_EDGE_PLAIN: 'on' });
    expect(msg.split('\n')).toHaveLength(4);
    expect(msg).toMatch(/^3 bad settings:/);
    for (const name of ['IM_EDGE_PORT', 'LOG_LEVEL', 'IM_EDGE_PLAIN'])
      expect(msg).toContain(`\n  ${name} must be`);
  });

  it('never repeats a secret or a URL with a password in an error', () => {
    const short = 'short-and-SENSITIVE';
    const msg = errorOf({ IM_JWT_SECRET: short });
    expect(msg).toMatch(/^IM_JWT_SECRET must be a secret of at least 32 bytes \(19 bytes is too short/);
    expect(msg).not.toContain('SENSITIVE');
    const url = errorOf({ DATABASE_URL: 'mysql://im:PASSWORD@db/im' });
    expect(url).toMatch(/^DATABASE_URL must be a URL/);
    expect(url).not.toContain('PASSWORD');
  });

  it('refuses an HS256 secret shorter than 32 bytes (docs/security.md, Defaults)', () => {
    expect(MIN_HS256_SECRET_BYTES).toBe(32);
    expect(errorOf({ IM_JWT_SECRET: 'x'.repeat(31) })).toMatch(/^IM_JWT_SECRET must be/);
    expect(loadConfig({ IM_JWT_SECRET: 'x'.repeat(32) }).auth.jwtSecret).toHaveLength(32);
  });

  it('leaves empty values to the defaults', () => {
    expect(loadConfig({ IM_EDGE_PORT: '', LOG_LEVEL: '' })).toEqual(defaultConfig());
  });
});

describe('loadConfig: cluster and embedded defaults (docs/security.md, Defaults)', () => {
  it('the cluster issues no development tokens and serves its HTTP port on every interface', () => {
    const cfg = loadConfig({});
    expect(cfg.admin.devTokens).toBe(false);
    expect(cfg.admin.host).toBe('0.0.0.0');
    expect(cfg.auth.hs256WithJwks).toBe(false);
  });

  it('embedded mode: the admin API on loopback and development tokens on, unless configured', () => {
    const cfg = loadConfig({}, {}, 'embedded');
    expect(cfg.admin.host).toBe('127.0.0.1');
    expect(cfg.admin.devTokens).toBe(true);
    // In one process a fan-out batch costs no round trip: no linger.
    expect(cfg.message.fanoutLingerMs).toBe(0);
    expect(defaultConfig().message.fanoutLingerMs).toBe(5);
    // Nothing else differs from the cluster's defaults.
    const { admin: _a, message: m1, ...rest } = cfg;
    const { admin: _b, message: m2, ...clusterRest } = defaultConfig();
    expect(rest).toEqual(clusterRest);
    expect({ ...m1, fanoutLingerMs: 0 }).toEqual({ ...m2, fanoutLingerMs: 0 });
    expect(Object.keys(EMBEDDED_DEFAULTS)).toEqual(['admin', 'message']);

    const set = loadConfig({ IM_ADMIN_HOST: '0.0.0.0', IM_ADMIN_DEV_TOKENS: 'false' }, {}, 'embedded');
    expect(set.admin.host).toBe('0.0.0.0');
    expect(set.admin.devTokens).toBe(false);
  });

  it('the cluster turns development tokens on only when IM_ADMIN_DEV_TOKENS=true', () => {
    expect(loadConfig({ IM_ADMIN_DEV_TOKENS: 'true' }).admin.devTokens).toBe(true);
  });
});
