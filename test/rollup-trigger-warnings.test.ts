/**
 * What the rollups say when they cannot check their change trigger for a reason that is not a missing grant (no
 * free connection, the database away): no advice to grant TRIGGER (the role has it), and a line when the trigger
 * is in place again. A full pool used to be logged as a missing permission, never withdrawn.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as ChangeTrigger from '../src/aggregates/rollup/change-trigger.js';
import { capturingLogger } from './support/captured-log.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

const failures = vi.hoisted(() => ({ next: 0 }));

vi.mock('../src/aggregates/rollup/change-trigger.js', async (importOriginal) => {
  const original = await importOriginal<typeof ChangeTrigger>();
  return {
    ...original,
    hasChangeTrigger: async (...args: Parameters<typeof original.hasChangeTrigger>) => {
      if (failures.next > 0) {
        failures.next -= 1;
        // Each failure in its own words, as an outage's are (request ids, timings).
        throw new Error(`timeout exceeded when trying to connect (attempt ${failures.next})`);
      }
      return original.hasChangeTrigger(...args);
    },
  };
});

describe('a change-trigger check that fails for want of a connection', () => {
  let gw: TestGateway;
  const { logger, lines } = capturingLogger('info');
  beforeAll(async () => {
    gw = await startTestGateway('rollup_trigger_warnings', { ROLLUP_POLL_MS: '0' }, { logger });
  });
  afterAll(() => gw.close());

  it('is not blamed on a missing grant, and its recovery is said', async () => {
    failures.next = 1;
    await gw.app.rollups.install(); // checks the trigger (as every maintenance tick does)
    const warned = lines.filter((line) => line.level === 'warn' && /change trigger/.test(line.msg));
    expect(warned).toHaveLength(1);
    expect(warned[0]!.msg).toMatch(/^rollups unused until the next check: could not check or install/);
    expect(warned[0]!.fix).toBeUndefined();
    await gw.app.rollups.install();
    expect(lines.some((line) => line.level === 'info' && line.msg === 'rollup change trigger in place again')).toBe(
      true,
    );
  });

  it('says a lasting outage once, not at every check (every ROLLUP_POLL_MS it logged again)', async () => {
    const before = lines.length;
    failures.next = 6;
    for (let check = 0; check < 6; check += 1) await gw.app.rollups.install();
    const warned = lines.slice(before).filter((line) => line.level === 'warn');
    expect(warned.map((line) => line.msg)).toEqual([
      'rollups unused until the next check: could not check or install their change trigger; aggregates use the synced table',
    ]);
    await gw.app.rollups.install();
    expect(
      lines
        .slice(before)
        .filter((line) => line.level === 'info')
        .map((line) => line.msg),
    ).toContain('rollup change trigger in place again');
  });
});
