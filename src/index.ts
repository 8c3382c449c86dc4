export { start, shutdown, type Handle, type StartOptions } from './start';
export { resolveConfig, type ResolvedConfig } from './config/resolve';
export {
  trackChatMessage,
  trackAIRequest,
  recordError,
  setActiveSessions,
  sessionStarted,
  sessionEnded,
  recordProductRecommendation,
  recordUserFeedback,
  recordRateLimitHit,
  recordValidationError,
  metrics,
} from './metrics/api';
export { registerHealthCheck, type AppCheck } from './health/api';
export {
  captureException,
  captureMessage,
  addBreadcrumb,
  startTransaction,
  createSpan,
  type SpanHandle,
} from './errors/api';
