/**
 * Which processes hold listening TCP sockets, from /proc (Linux): the socket inodes in
 * LISTEN state in /proc/net/tcp{,6}, matched with the sockets among a process's file descriptors.
 * Tells "npm's process binds nothing" from "the app binds the health port" without trusting logs.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const LISTEN = '0A';

/** inode → local port, for every listening TCP socket of the machine. */
function listeningSockets(): Map<string, number> {
  const sockets = new Map<string, number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== LISTEN) continue;
      const port = parseInt(fields[1]!.split(':')[1]!, 16);
      sockets.set(fields[9]!, port);
    }
  }
  return sockets;
}

/** The TCP ports `pid` listens on. */
export function listeningPorts(pid: number): number[] {
  const sockets = listeningSockets();
  const ports: number[] = [];
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return ports;
  }
  for (const fd of fds) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    const port = inode === undefined ? undefined : sockets.get(inode);
    if (port !== undefined) ports.push(port);
  }
  return ports.sort((a, b) => a - b);
}
