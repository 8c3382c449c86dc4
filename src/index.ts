export { start, shutdown, type Handle, type StartOptions } from './start';
export { resolveConfig, type ResolvedConfig } from './config/resolve';
