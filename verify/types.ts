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
  /**
   * The check this one follows from (verify/causes.ts): when that one fails too, this failure is
   * folded under it, one finding rather than many.
   */
  followsFrom?: string;
  /** How many times it ran under `--wait` before it ended as it did; absent for one run. */
  attempts?: number;
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
  /**
   * Why verify could not log in (no credentials, no connection), so checked nothing; absent when it
   * logged in, or reached a host that showed a wrong host key (a failed check, not an outage).
   */
  unreachable?: string;
  checks: CheckResult[];
}

export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  /** Failed checks that follow from no other failure: what an operator has to fix. */
  rootCauses: number;
  /** Hosts verify could not log in to. */
  unreachable: number;
}

export interface VerifyResult {
  project: string;
  stack: string;
  hosts: HostResult[];
  summary: Summary;
}
