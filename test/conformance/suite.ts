/**
 * The conformance suite: the same protocol scenarios (protocol.md §1–§6) against any deployment —
 * the embedded server (test/conformance/embedded.test.ts) and the cluster of OS processes
 * (test/cluster/conformance.test.ts) — so the two modes cannot drift apart (STYLE.md "Every
 * backend twice"). One target per suite: the factory runs once, every scenario uses unique user ids.
 * Scenarios that need a special configuration (short timers, tiny output bounds, a restart) stay in
 * test/e2e against the embedded server.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe } from 'vitest';
import { badInputScenarios } from './bad-input.scenarios.js';
import { Harness } from './harness.js';
import { messagingScenarios } from './messaging.scenarios.js';
import { sessionScenarios } from './session.scenarios.js';
import type { Target, TargetFactory } from './target.js';

export { CONFORMANCE_SETTINGS, conformanceEnv, type Target, type TargetFactory } from './target.js';

export function conformanceSuite(targetName: string, factory: TargetFactory): void {
  describe(`conformance: ${targetName}`, () => {
    let target: Target | undefined;
    let harness: Harness | undefined;
    const h = (): Harness => {
      if (!harness) throw new Error(`the ${targetName} target did not start (see the beforeAll error)`);
      return harness;
    };

    beforeAll(async () => {
      target = await factory();
      harness = new Harness(target);
    });

    // A failing scenario prints the servers' recent logs next to the assertion.
    beforeEach((ctx) => {
      ctx.onTestFailed(async () => {
        const tail = await target?.logTail?.().catch((err: unknown) => `(no logs: ${String(err)})`);
        if (tail) console.error(`---- ${targetName}: recent server logs (${ctx.task.name}) ----\n${tail}`);
      });
    });

    afterEach(() => harness?.closeClients());

    afterAll(async () => {
      harness?.closeClients();
      await target?.close();
    });

    sessionScenarios(h);
    messagingScenarios(h);
    badInputScenarios(h);
  });
}
