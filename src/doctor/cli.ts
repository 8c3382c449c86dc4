import { resolveConfig } from '../config/resolve';
import { summarizeConfig } from '../config/summary';
import type { Env } from '../config/variables';
import { CATALOG } from '../config/instrumentations';
import { planInstrumentations } from '../instrumentations/load';
import { createLogger, stringify } from '../logging/logger';
import { appInfo } from '../modules';
import { apiFindings } from './api-version';
import { exitStatus, type Finding } from './findings';
import { knownMistakes } from './mistakes';
import { exportingSignals, packageFindings, versionFindings } from './packages';
import { checkDependencies, checkOtlp, checkSentry, sendSentryTestEvent, sendTestSpan } from './reach';
import { malformedValues, unknownVariables } from './variables';

const USAGE = `Usage: innatural-otel doctor [--json] [--send-test-event] [--timeout <ms>]

Reads the environment exactly as the preload does and reports:
  the effective configuration (secrets redacted) and the instrumentations that would load here;
  unknown OTEL_*, INNATURAL_* and SENTRY_* variables, malformed values, known mistakes,
  an @opentelemetry/api of the app's that cannot share the SDK's globals, packages the
  configuration needs that are not installed (Sentry, instrumentations, cloud detectors);
  whether the OTLP endpoint (for each signal that would export), DATABASE_URL, REDIS_URL and
  the Sentry DSN answer.

  --send-test-event  also send one test error to Sentry and one test span over OTLP, and print their ids
  --json             one JSON document on stdout
  --timeout <ms>     per reachability check (default 5000)

Exit status: 0 all good, 1 warnings, 2 errors.
`;

export interface DoctorOptions {
  readonly json: boolean;
  readonly sendTestEvent: boolean;
  readonly timeoutMs: number;
}

export type ParsedArgs = { readonly ok: true; readonly options: DoctorOptions } | { readonly ok: false; readonly message?: string };

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const args = argv[0] === 'doctor' ? argv.slice(1) : [...argv];
  let json = false;
  let sendTestEvent = false;
  let timeoutMs = 5000;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--json') json = true;
    else if (arg === '--send-test-event') sendTestEvent = true;
    else if (arg === '--timeout' || arg.startsWith('--timeout=')) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[++i];
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0) return { ok: false, message: `--timeout wants a positive number of milliseconds, not ${String(value)}` };
      timeoutMs = n;
    } else if (arg === '--help' || arg === '-h') return { ok: false };
    else return { ok: false, message: `unknown argument ${arg}` };
  }
  return { ok: true, options: { json, sendTestEvent, timeoutMs } };
}

export interface DoctorReport {
  readonly status: 'ok' | 'warn' | 'error';
  readonly exitCode: 0 | 1 | 2;
  readonly configuration: ReturnType<typeof summarizeConfig>;
  readonly instrumentations: {
    readonly appDir: string;
    readonly appName: string | undefined;
    readonly load: ReadonlyArray<{ name: string; packages: readonly string[] }>;
    readonly notInstalled: ReadonlyArray<{ name: string; packages: readonly string[] }>;
    /** Enabled, their target installed, but not their own package. */
    readonly instrumentationNotInstalled: ReadonlyArray<{ name: string; package: string }>;
  };
  readonly findings: readonly Finding[];
}

export async function diagnose(env: Env, cwd: string, options: DoctorOptions): Promise<DoctorReport> {
  const { config, warnings } = resolveConfig(env);
  // The app is the working directory: with undefined, appInfo would take doctor's own script (argv[1])
  // and find the packages installed beside our bin instead of the app's.
  const app = appInfo('', cwd);
  const plan = planInstrumentations(config.instrumentations, app, {
    traces: config.traces.exporters.length > 0,
    metrics: config.metrics.exporters.length > 0,
    logs: config.logs.exporters.length > 0,
  });
  const withPackages = (name: keyof typeof CATALOG) => ({ name, packages: [...CATALOG[name].modules] });

  const exporting = exportingSignals(config, plan);

  const findings: Finding[] = [
    ...unknownVariables(env),
    ...malformedValues(warnings),
    ...knownMistakes(config, env, exporting),
    ...apiFindings(app.searchDirs),
    ...packageFindings(config, app.searchDirs, plan),
    // Silent: an instrumentation that cannot be built is reported by packageFindings and apiFindings.
    ...versionFindings(config, app.searchDirs, plan, createLogger('none')),
  ];
  if (config.disabled) findings.push({ level: 'warn', subject: 'OTEL_SDK_DISABLED', message: 'true: the preload loads nothing' });
  const checks = await Promise.all([
    checkOtlp(config, exporting, options.timeoutMs),
    checkDependencies(config, app.searchDirs, options.timeoutMs),
    checkSentry(config, options.timeoutMs),
  ]);
  findings.push(...checks.flat());
  if (options.sendTestEvent) {
    const { buildResource } = require('../resource') as typeof import('../resource');
    findings.push(await sendSentryTestEvent(config, options.timeoutMs), await sendTestSpan(config, buildResource(config, app), options.timeoutMs));
  }
  const exitCode = exitStatus(findings);
  return {
    status: (['ok', 'warn', 'error'] as const)[exitCode],
    exitCode,
    configuration: summarizeConfig(config),
    instrumentations: {
      appDir: cwd,
      appName: app.name,
      load: plan.load.map(withPackages),
      notInstalled: plan.absent.map(withPackages),
      instrumentationNotInstalled: plan.missing.map((name) => ({ name, package: CATALOG[name].pkg })),
    },
    findings,
  };
}

const MARK = { ok: '✔', warn: '!', error: '✖' } as const;

export function renderText(report: DoctorReport): string {
  const lines = ['@innatural/otel doctor', '', 'Configuration (secrets redacted):'];
  lines.push(...JSON.stringify(report.configuration, null, 2).split('\n').map((l) => `  ${l}`));
  const { instrumentations: i } = report;
  lines.push('', `Instrumentations for ${i.appName ?? 'the app'} in ${i.appDir}:`);
  lines.push(`  load: ${i.load.map((x) => x.name).join(', ') || 'none'}`);
  if (i.notInstalled.length > 0) {
    lines.push(`  enabled, package not installed here (${i.notInstalled.length}): ${i.notInstalled.map((x) => x.name).join(', ')}`);
  }
  if (i.instrumentationNotInstalled.length > 0) {
    lines.push(`  enabled, package installed, instrumentation not installed (${i.instrumentationNotInstalled.length}): ${i.instrumentationNotInstalled.map((x) => x.name).join(', ')}`);
  }
  lines.push('', 'Checks:');
  if (report.findings.length === 0) lines.push('  nothing to check: no OTLP exporter, DATABASE_URL, REDIS_URL or SENTRY_DSN');
  for (const f of report.findings) lines.push(`  ${MARK[f.level]} ${f.subject}: ${f.message}`);
  const count = (level: Finding['level']) => report.findings.filter((f) => f.level === level).length;
  lines.push('', `Result: ${count('error')} error(s), ${count('warn')} warning(s) — exit status ${report.exitCode}`, '');
  return lines.join('\n');
}

/** The `innatural-otel` command. Resolves with the exit status; never throws. */
export async function main(argv: readonly string[], env: Env = process.env, cwd = process.cwd()): Promise<number> {
  if (argv.length > 0 && argv[0] !== 'doctor' && !argv[0]!.startsWith('-')) {
    process.stderr.write(`innatural-otel: unknown command ${argv[0]}\n\n${USAGE}`);
    return 2;
  }
  const parsed = parseArgs(argv);
  if (!parsed.ok) {
    if (parsed.message) process.stderr.write(`innatural-otel doctor: ${parsed.message}\n\n`);
    process.stderr.write(USAGE);
    return parsed.message ? 2 : 0;
  }
  try {
    const report = await diagnose(env, cwd, parsed.options);
    process.stdout.write(parsed.options.json ? `${JSON.stringify(report, null, 2)}\n` : renderText(report));
    return report.exitCode;
  } catch (err) {
    process.stderr.write(`innatural-otel doctor failed: ${stringify(err)}\n`);
    return 2;
  }
}
