// Times a KVM guest from clone to userspace on a fresh sandbox host (TCG, no /dev/kvm): apply the
// sandbox stack's btrfs and kvm parts (libvirt, the built image, guest spark-dev-1), then --runs
// times (default 5) a new guest through the deploy's own guest script (reflink clone, seed,
// define, start) until its readiness line is on its serial console, and right after boot the disk
// space the guest costs: its directory's exclusive bytes by `btrfs filesystem du` (extents no
// other file shares). Baseline in the same run: the image directory copied without reflink. Prints a
// table and writes bench/results/guest.json.
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { renderInlineCommand } from "../components/host-script";
import { DIRECT_KERNEL_CMDLINE } from "../components/kvm-guest";
import { DEFAULT_SHUTDOWN_SECONDS } from "../components/kvm-host";
import { renderDomainXml } from "../components/kvm/domain-xml";
import { renderSeed } from "../components/kvm/seed";
import { posixQuote } from "../lib/shell-quote";
import { parseSize } from "../lib/size";
import type { SshSession } from "../lib/ssh";
import { openSandboxSession } from "../sandbox";
import { BenchSandbox, median, ROOT } from "./lib/bench-sandbox";

const SANDBOX = new BenchSandbox("guest");
const STATE_DIR = SANDBOX.stateDir;
const IMAGES = "/srv/sparks/images";
const TARGET_S = 10;

async function run(session: SshSession, script: string): Promise<string> {
  const result = await session.exec(script);
  if (result.code !== 0) throw new Error(`on the host: ${script.slice(0, 200)}\nexit ${result.code}\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

/** The deploy's guest script for a new guest NAME, as KvmGuest renders it. */
function guestCommand(name: string, baseDir: string, imageId: string, guest: any, shutdownSeconds: number): string {
  const dir = `${IMAGES}/guests/${name}`;
  const memoryKiB = parseSize(guest.memory) / 1024;
  const xml = renderDomainXml({
    name,
    domainType: "qemu",
    vcpus: guest.vcpus,
    memoryKiB,
    nested: false,
    diskPath: `${dir}/disk.raw`,
    seedPath: `${dir}/seed.iso`,
    consoleLog: `${dir}/console.log`,
    directKernel: { kernel: `${dir}/vmlinuz`, initrd: `${dir}/initrd.img`, cmdline: DIRECT_KERNEL_CMDLINE },
    network: { mode: "user" },
  });
  const seed = renderSeed({ hostname: name, instanceId: `${name}-${imageId}`, sshKeys: [] });
  return renderInlineCommand(
    "kvm/guest.sh",
    {
      NAME: name,
      IMAGE_ID: imageId,
      BASE_DIR: baseDir,
      DIRECT_KERNEL: "yes",
      GUEST_DIR: dir,
      DISK_BYTES: parseSize(guest.diskSize),
      VCPUS: guest.vcpus,
      MEMORY_KIB: memoryKiB,
      AUTOSTART: false,
      SHUTDOWN_SECONDS: shutdownSeconds,
      RESOURCE: `bench-${name}`,
    },
    [{ content: seed.metaData }, { content: seed.userData }, { content: xml }],
  );
}

const exclusiveBytes = async (session: SshSession, target: string) =>
  Number((await run(session, `btrfs filesystem du --raw ${posixQuote(target)} | tail -n 1`)).trim().split(/\s+/)[1]);

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: "string", default: "5" } } });
  const runs = Number(values.runs);
  let kvm: any;
  // KVM only: the guests' disks and the host's memory are the bench's alone
  SANDBOX.writeStack(["kvm"], ([host]) => (kvm = host.kvm));
  const guest = kvm.guests[0];
  const shutdownSeconds: number = kvm.shutdownSeconds ?? DEFAULT_SHUTDOWN_SECONDS;
  await SANDBOX.up("8G");
  const session = await openSandboxSession(STATE_DIR);
  try {
    await SANDBOX.apply();
    const baseDir = (await run(session, `ls -d ${IMAGES}/base/tiny-*`)).trim();
    const imageId = path.basename(baseDir);
    const samples: { name: string; boot_s: number; exclusive_bytes: number }[] = [];
    for (let i = 1; i <= runs; i++) {
      const name = `bench-${i}`;
      const started = process.hrtime.bigint();
      await run(session, guestCommand(name, baseDir, imageId, guest, shutdownSeconds));
      await run(session, `until grep -q '^sparks-ready ' ${IMAGES}/guests/${name}/console.log 2>/dev/null; do sleep 0.05; done`);
      const boot = Number(process.hrtime.bigint() - started) / 1e9;
      await run(session, "sync");
      samples.push({ name, boot_s: boot, exclusive_bytes: await exclusiveBytes(session, `${IMAGES}/guests/${name}`) });
      await run(session, `virsh destroy ${name} >/dev/null; virsh undefine ${name} >/dev/null; rm -rf ${IMAGES}/guests/${name}`);
    }
    // Baseline: the image (disk, kernel, initrd) copied without reflink, what a guest costs without sharing.
    const copyStarted = process.hrtime.bigint();
    await run(session, `cp -r --sparse=always --reflink=never ${baseDir} ${IMAGES}/full-copy && sync`);
    const copySeconds = Number(process.hrtime.bigint() - copyStarted) / 1e9;
    const copyExclusive = await exclusiveBytes(session, `${IMAGES}/full-copy`);
    const baseBytes = Number((await run(session, `stat -c %s ${baseDir}/disk.raw`)).trim());
    const baseAllocated = Number((await run(session, `du -B1 ${baseDir}/disk.raw | cut -f1`)).trim());

    const boots = samples.map((s) => s.boot_s);
    const result = {
      machine: "sandbox host (systemd-nspawn), TCG (domain type qemu), 2 shared cores",
      runs,
      clone_boot_s: boots,
      clone_boot_s_median: median(boots),
      target_s: TARGET_S,
      target_met: median(boots) <= TARGET_S,
      space_method: "btrfs filesystem du --raw: exclusive bytes of the guest directory (disk, kernel, initrd, seed, console log) after boot",
      exclusive_bytes_per_guest: samples.map((s) => s.exclusive_bytes),
      exclusive_bytes_per_guest_median: median(samples.map((s) => s.exclusive_bytes)),
      base_disk: { apparent_bytes: baseBytes, allocated_bytes: baseAllocated },
      baseline_full_copy: { seconds: copySeconds, exclusive_bytes: copyExclusive },
    };
    console.log("\nguest clone + boot to userspace (TCG)");
    console.log("run        seconds   exclusive bytes after boot");
    for (const s of samples) console.log(`${s.name.padEnd(10)} ${s.boot_s.toFixed(2).padStart(7)}   ${s.exclusive_bytes}`);
    console.log(`median     ${median(boots).toFixed(2).padStart(7)}   ${result.exclusive_bytes_per_guest_median}   (target <= ${TARGET_S} s: ${result.target_met ? "met" : "NOT met"})`);
    console.log(`baseline: full copy of the image directory (its disk has ${baseAllocated} bytes allocated): ${copySeconds.toFixed(2)} s, ${copyExclusive} exclusive bytes`);
    mkdirSync(path.join(ROOT, "bench/results"), { recursive: true });
    writeFileSync(path.join(ROOT, "bench/results/guest.json"), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    session.close();
    await SANDBOX.down();
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
