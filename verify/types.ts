import type { ExecResult } from "../lib/ssh";

export type { ExecResult };

/** Outcome of one check. `skip` means the check could not run (e.g. the host key was refused). */
export type CheckStatus = "pass" | "fail" | "skip";

export interface CheckResult {
  /** Stable, human-readable name, e.g. `btrfs data: mounted at /srv/data`. */
  name: string;
  status: CheckStatus;
  expected?: string;
  found?: string;
  /** Extra context, e.g. the stderr of the command that failed or why a check was skipped. */
  detail?: string;
}

/** A check as known before running it: what `skip` and "volume not mounted" results are built from. */
export interface PlannedCheck {
  name: string;
  expected: string;
}

/** Runs one shell command on the host. Never rejects: transport failures come back as `code: null`. */
export type Exec = (command: string) => Promise<ExecResult>;

export interface HostResult {
  name: string;
  /** `user@address:port` */
  target: string;
  checks: CheckResult[];
}

export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
}

export interface VerifyResult {
  project: string;
  stack: string;
  hosts: HostResult[];
  summary: Summary;
}
