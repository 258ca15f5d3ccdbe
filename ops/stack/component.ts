/** One part of the local stack, as `sluice stack up | down | status` sees it. */
export interface Health {
  healthy: boolean;
  version?: string;
  detail?: string;
}

export interface Component {
  readonly name: string;
  /** The address clients use, credentials redacted. */
  readonly address: string;
  /** False when the environment points at a service elsewhere: `up` checks it but never starts it. */
  readonly local: boolean;
  /** How long `up` waits for readiness after starting it. */
  readonly startTimeoutMs: number;
  probe(): Promise<Health>;
  /** Fetches binaries if needed and starts the component in the background. */
  start(progress: (line: string) => void): Promise<void>;
  /** Stops it if `up` started it; returns whether it did. */
  stop(): Promise<boolean>;
  readonly logFile?: string;
}
