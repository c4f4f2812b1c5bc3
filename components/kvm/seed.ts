import { stringify } from "yaml";

/** Seed files of a guest's NoCloud data source (a disk labelled cidata). */
export interface Seed {
  metaData: string;
  userData: string;
}

/** The line a guest prints on its serial console once userspace runs; verify looks for it. */
export const READY_PREFIX = "sparks-ready";

/**
 * meta-data and user-data of a guest. The user-data's runcmd prints the readiness line on the
 * serial console (with whether /dev/kvm exists), the same line the built image's init prints;
 * `extra` cloud-config keys are merged in, its runcmd entries run before that line.
 */
export function renderSeed(args: { hostname: string; instanceId: string; sshKeys: string[]; extra?: Record<string, unknown> }): Seed {
  const extra = args.extra ?? {};
  const extraRuncmd = Array.isArray(extra.runcmd) ? extra.runcmd : [];
  const ready =
    `echo "${READY_PREFIX} instance-id=${args.instanceId} hostname=$(hostname) ` +
    'disk-bytes=$(($(cat /sys/block/vda/size) * 512)) kvm=$([ -e /dev/kvm ] && echo present || echo absent)" > /dev/ttyS0';
  const cloudConfig = {
    ...extra,
    hostname: args.hostname,
    ...(args.sshKeys.length > 0 ? { ssh_authorized_keys: args.sshKeys } : {}),
    runcmd: [...extraRuncmd, ["sh", "-c", ready]],
  };
  return {
    metaData: `instance-id: ${args.instanceId}\nlocal-hostname: ${args.hostname}\n`,
    userData: `#cloud-config\n${stringify(cloudConfig)}`,
  };
}
