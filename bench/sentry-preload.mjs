// Variant F: @sentry/node 11's own preload, with tracing, sending to the bench sink.
import * as Sentry from '@sentry/node';

Sentry.init({ dsn: process.env.BENCH_SENTRY_DSN, tracesSampleRate: 1.0 });
