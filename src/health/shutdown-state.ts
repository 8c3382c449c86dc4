/** Set at the first SIGTERM/SIGINT, before the flush: readiness answers 503 from then on. */
export class ShutdownState {
  shuttingDown = false;
}
