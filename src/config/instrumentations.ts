/**
 * The instrumentations we can load, by the short names auto-instrumentations-node uses.
 * A pure table: nothing here is required until the loader picks an entry, because
 * requiring every instrumentation package is what makes stock preloads slow to start.
 * The `shipped` ones are our dependencies; the others load from the package the user
 * installs (see packages.ts), which costs the many who never use them nothing.
 */
export interface CatalogEntry {
  readonly pkg: string;
  readonly exportName: string;
  /** Packages it patches; it is loaded only when one of them resolves from the app. Empty: node core. */
  readonly modules: readonly string[];
  /** Node core modules it patches (they always resolve; the ESM hook needs their names). */
  readonly builtins?: readonly string[];
  /** Off unless named in OTEL_NODE_ENABLED_INSTRUMENTATIONS; the reason is in `offBecause`. */
  readonly offBecause?: string;
  /**
   * What it is for when traces are not exported: 'metrics' (client spans our catalog
   * metrics derive from) and 'logs' still load; 'tracing' ones (the default) do not,
   * since all they would add is per-request cost.
   */
  readonly role?: 'metrics' | 'logs';
  /**
   * Loaded only when the app's package.json names a target: ours (the gRPC exporter)
   * pulls it in too, and an installed copy alone would not mean the app uses it.
   */
  readonly onlyWhenDeclared?: boolean;
  /** A dependency of ours (the chatbot stack): always installed. A test holds this equal to package.json. */
  readonly shipped?: true;
  /**
   * Its targets are alternatives, not parts: the top package of newer majors only re-exports the
   * client it depends on (redis 4+ and @redis/client, aws-sdk v3's clients), so one target in
   * range means it is traced. Otherwise every target installed must be in range (pg 7 with its
   * pg-pool 2: the pool is patched, the queries are not).
   */
  readonly anyTarget?: true;
  /** Ours, in src/instrumentations/ (`pkg` is then this package): nothing to resolve or check in the app. */
  readonly own?: true;
}

const entry = (
  short: string,
  exportName: string,
  modules: readonly string[],
  extra: Partial<Pick<CatalogEntry, 'anyTarget' | 'builtins' | 'offBecause' | 'onlyWhenDeclared' | 'role' | 'shipped'>> = {},
): CatalogEntry => ({ pkg: `@opentelemetry/instrumentation-${short}`, exportName, modules, ...extra });

const own = (exportName: string, modules: readonly string[], extra: Pick<CatalogEntry, 'role'>): CatalogEntry => ({
  pkg: '@innatural/otel',
  exportName,
  modules,
  own: true,
  ...extra,
});

export const CATALOG = {
  http: entry('http', 'HttpInstrumentation', [], { builtins: ['http', 'https'], shipped: true }),
  express: entry('express', 'ExpressInstrumentation', ['express'], { shipped: true }),
  pg: entry('pg', 'PgInstrumentation', ['pg', 'pg-pool'], { role: 'metrics', shipped: true }),
  ioredis: entry('ioredis', 'IORedisInstrumentation', ['ioredis'], { role: 'metrics', shipped: true }),
  redis: entry('redis', 'RedisInstrumentation', ['redis', '@redis/client', '@node-redis/client'], { role: 'metrics', shipped: true, anyTarget: true }),
  undici: entry('undici', 'UndiciInstrumentation', [], { builtins: [], shipped: true }),
  // Ours: upstream's instrumentation-openai stops below openai 7.
  openai: own('OpenAIInstrumentation', ['openai'], { role: 'metrics' }),
  winston: entry('winston', 'WinstonInstrumentation', ['winston'], { role: 'logs', shipped: true }),
  pino: entry('pino', 'PinoInstrumentation', ['pino'], { role: 'logs', shipped: true }),
  amqplib: entry('amqplib', 'AmqplibInstrumentation', ['amqplib']),
  'aws-lambda': entry('aws-lambda', 'AwsLambdaInstrumentation', [], {
    offBecause: 'only meaningful inside AWS Lambda',
  }),
  'aws-sdk': entry('aws-sdk', 'AwsInstrumentation', ['aws-sdk', '@smithy/smithy-client', '@aws-sdk/smithy-client'], { anyTarget: true }),
  bunyan: entry('bunyan', 'BunyanInstrumentation', ['bunyan'], { role: 'logs' }),
  'cassandra-driver': entry('cassandra-driver', 'CassandraDriverInstrumentation', ['cassandra-driver']),
  connect: entry('connect', 'ConnectInstrumentation', ['connect']),
  cucumber: entry('cucumber', 'CucumberInstrumentation', ['@cucumber/cucumber']),
  dataloader: entry('dataloader', 'DataloaderInstrumentation', ['dataloader']),
  dns: entry('dns', 'DnsInstrumentation', [], {
    builtins: ['dns'],
    offBecause: 'a span per lookup doubles the spans of every client call',
  }),
  fs: entry('fs', 'FsInstrumentation', [], { builtins: ['fs'], offBecause: 'a span per file operation' }),
  'generic-pool': entry('generic-pool', 'GenericPoolInstrumentation', ['generic-pool']),
  graphql: entry('graphql', 'GraphQLInstrumentation', ['graphql']),
  grpc: entry('grpc', 'GrpcInstrumentation', ['@grpc/grpc-js'], { onlyWhenDeclared: true }),
  hapi: entry('hapi', 'HapiInstrumentation', ['@hapi/hapi']),
  'host-metrics': entry('host-metrics', 'HostMetricsInstrumentation', [], {
    role: 'metrics',
    offBecause: 'host metrics belong to the node exporter or collector',
  }),
  kafkajs: entry('kafkajs', 'KafkaJsInstrumentation', ['kafkajs']),
  knex: entry('knex', 'KnexInstrumentation', ['knex']),
  koa: entry('koa', 'KoaInstrumentation', ['koa']),
  'lru-memoizer': entry('lru-memoizer', 'LruMemoizerInstrumentation', ['lru-memoizer']),
  memcached: entry('memcached', 'MemcachedInstrumentation', ['memcached']),
  mongodb: entry('mongodb', 'MongoDBInstrumentation', ['mongodb']),
  mongoose: entry('mongoose', 'MongooseInstrumentation', ['mongoose']),
  mysql: entry('mysql', 'MySQLInstrumentation', ['mysql'], { role: 'metrics' }),
  mysql2: entry('mysql2', 'MySQL2Instrumentation', ['mysql2'], { role: 'metrics', shipped: true }),
  'nestjs-core': entry('nestjs-core', 'NestInstrumentation', ['@nestjs/core']),
  net: entry('net', 'NetInstrumentation', [], {
    builtins: ['net'],
    offBecause: 'a span per socket doubles the spans of every client call',
  }),
  oracledb: entry('oracledb', 'OracleInstrumentation', ['oracledb']),
  restify: entry('restify', 'RestifyInstrumentation', ['restify']),
  router: entry('router', 'RouterInstrumentation', ['router'], {
    offBecause: 'Express 5 runs on `router`: with the express instrumentation it would duplicate every handler span',
  }),
  'runtime-node': entry('runtime-node', 'RuntimeNodeInstrumentation', [], {
    role: 'metrics',
    offBecause: 'runtime metrics come from our own collector under prom-client names',
  }),
  'socket.io': entry('socket.io', 'SocketIoInstrumentation', ['socket.io']),
  tedious: entry('tedious', 'TediousInstrumentation', ['tedious']),
} as const satisfies Record<string, CatalogEntry>;

export type InstrumentationName = keyof typeof CATALOG;

export const INSTRUMENTATION_NAMES = Object.keys(CATALOG) as InstrumentationName[];
