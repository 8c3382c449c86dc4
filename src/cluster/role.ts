/**
 * Where this process stands in a `node:cluster` group, decided once at start. A worker's
 * `listen()` goes through its primary, so a worker that bound the health port too would
 * fail (EADDRINUSE) or, under a primary that shares it (PM2's), answer one scrape in N.
 */
import type { Cluster } from 'node:cluster';
import { PRIMARY_ENV } from './protocol';

export type ClusterRole =
  /** Not a cluster worker; it becomes a primary if the app forks workers. */
  | { readonly kind: 'process' }
  /** A worker whose parent runs the preload: the parent serves health for the group. */
  | { readonly kind: 'worker'; readonly id: string }
  /** A worker whose parent does not (PM2's daemon, a primary started without it). */
  | { readonly kind: 'lone-worker'; readonly id: string };

const PROCESS: ClusterRole = { kind: 'process' };

export function clusterRole(env: NodeJS.ProcessEnv = process.env): ClusterRole {
  // Node deletes NODE_UNIQUE_ID before preloads run; a worker has an IPC channel and cluster's
  // child side already loaded, so this require costs nothing there. Without a channel it
  // cannot be a worker, and a plain service does not load the cluster module for our sake.
  if (typeof process.send !== 'function') return PROCESS;
  let cluster: Cluster;
  try {
    cluster = require('node:cluster') as Cluster;
  } catch {
    return PROCESS; // some application servers (Passenger) break on it
  }
  if (!cluster.isWorker || !cluster.worker) return PROCESS;
  const id = String(cluster.worker.id);
  const primary = env[PRIMARY_ENV];
  if (primary === String(process.ppid)) return { kind: 'worker', id };
  // Orphaned as it started (the primary died: its group is going down): no port for it either.
  if (primary !== undefined && !alive(Number(primary))) return { kind: 'worker', id };
  return { kind: 'lone-worker', id };
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Called in a process that starts the health server as a primary could: its workers inherit the env. */
export function announcePrimary(env: NodeJS.ProcessEnv = process.env): void {
  env[PRIMARY_ENV] = String(process.pid);
}
