/** collector/alerts.yml as the Prometheus tests read it: each alert's expression, and the rules' evaluation on a live server. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COLLECTOR_DIR, type Prometheus } from './collector';
import { eventually } from './wait';

/** The alert's condition without its threshold: the series it watches, which must exist. */
export const withoutThreshold = (expr: string) => expr.trim().replace(/\s*(>=|<=|==|!=|>|<)\s*[-+0-9.e]+$/, '');

export function alertExprs(): Array<{ alert: string; expr: string }> {
  const text = readFileSync(join(COLLECTOR_DIR, 'alerts.yml'), 'utf8');
  return [...text.matchAll(/- alert: (\w+)\n\s+expr: (\|\n((?:\s{10}.*\n)+)|.*)/g)].map((m) => ({
    alert: m[1]!,
    expr: (m[3] ?? m[2]!).replace(/\s+/g, ' ').trim(),
  }));
}

export interface EvaluatedRule {
  readonly name: string;
  readonly health: string;
  readonly lastError?: string;
  readonly lastEvaluation: string;
}

/** Every loaded rule, once each has been evaluated at least once. */
export function evaluatedRules(prom: Prometheus, timeoutMs = 10000): Promise<EvaluatedRule[]> {
  return eventually(
    async () => {
      const body = (await (await fetch(`${prom.url}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: EvaluatedRule[] }> } };
      const all = body.data.groups.flatMap((g) => g.rules);
      return all.length > 0 && all.every((r) => !r.lastEvaluation.startsWith('0001')) && all;
    },
    timeoutMs,
    'rule evaluation',
    prom.output,
  );
}
