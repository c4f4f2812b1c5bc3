import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, describe, expect, it } from "vitest";
import { renderScriptBody, SCRIPTS_DIR } from "../../components/host-script";
import { bundleDir } from "../../components/bundle";
import { headerParams, HOST_KEY, mockPulumiRuntime, renderedUrn, resolve, settle, withShippedScript } from "./support";

let Host: typeof import("../../components/host").Host;
let BtrfsVolume: typeof import("../../components/btrfs-volume").BtrfsVolume;
let SparkPg: typeof import("../../components/spark-pg").SparkPg;
let HostTls: typeof import("../../components/host-tls").HostTls;

const registered = mockPulumiRuntime(async () => {
  ({ Host } = await import("../../components/host"));
  ({ BtrfsVolume } = await import("../../components/btrfs-volume"));
  ({ SparkPg } = await import("../../components/spark-pg"));
  ({ HostTls } = await import("../../components/host-tls"));
});

function newHost(name: string) {
  return new Host(name, { address: "203.0.113.10", hostKey: HOST_KEY, privateKey: pulumi.secret("KEY"), packages: ["htop"] });
}

const named = (prefix: string) => registered.filter((r) => r.name.startsWith(prefix));

describe("Host", () => {
  it("registers wait-for-ssh and base packages under its own name, with one pinned connection", async () => {
    const host = newHost("h1");
    await resolve(host.urn);
    await settle();
    expect(named("h1").map((r) => `${r.type} ${r.name}`)).toEqual([
      "sparks:host:Host h1",
      "command:remote:Command h1-wait-for-ssh",
      "command:remote:CopyToRemote h1-host-files",
      "command:remote:Command h1-base-packages",
    ]);
    // The bundle's files land in the remote directory itself (a source path ending in /: copyController.go sftpCopy).
    const files = named("h1-host-files")[0].inputs;
    expect(files.remotePath).toBe("/usr/local/lib/sparks/bundle");
    expect(await files.source.path).toMatch(/^(.*\/)?\.sparks\/bundle\/[0-9a-f]{16}\/$/);
    // wait-for-ssh runs before anything is shipped: it carries its script.
    expect(named("h1-wait-for-ssh")[0].inputs.create).toContain('[ -d /run/systemd/system ] || fail');
    expect(named("h1-base-packages")[0].inputs.create).toMatch(/^\. \/usr\/local\/lib\/sparks\/bundle\/scripts\/host\/base-packages-[0-9a-f]{12}\.sh$/m);
    // The private key makes the whole connection a secret, as the engine stores it.
    const connection = named("h1-wait-for-ssh")[0].inputs.connection;
    expect(connection["4dabf18193072939515e22adb298388d"]).toBeDefined();
    expect(connection.value).toMatchObject({ host: "203.0.113.10", port: 22, user: "root", hostKey: HOST_KEY, privateKey: "KEY" });
    expect(named("h1-base-packages")[0].inputs.create).toContain("PACKAGES=(btrfs-progs util-linux procps htop)");
    expect(host.packages).toEqual(["btrfs-progs", "util-linux", "procps", "htop"]);
  });

  it("keeps the private key secret", async () => {
    const host = newHost("h2");
    expect(await pulumi.isSecret(pulumi.output(host.connection.privateKey))).toBe(true);
  });
});

describe("BtrfsVolume", () => {
  it("names its commands after itself and nests under the host", async () => {
    const host = newHost("h3");
    const volume = new BtrfsVolume("h3-data", { host, device: "/dev/vdb", label: "l", mountpoint: "/srv/x", subvolumes: [{ name: "a" }] }, { parent: host });
    const urn = await resolve(volume.urn);
    await settle();
    expect(urn).toContain("sparks:host:Host$sparks:storage:BtrfsVolume::h3-data");
    expect(named("h3-data-").map((r) => r.name)).toEqual(["h3-data-format", "h3-data-mount", "h3-data-subvolume-a"]);
  });

  it("turns quotas on only when a subvolume declares a limit", async () => {
    const host = newHost("h4");
    const limited = new BtrfsVolume("h4-lim", { host, device: "/dev/vdb", label: "l", mountpoint: "/srv/l", subvolumes: [{ name: "a", limit: "2G" }] });
    const plain = new BtrfsVolume("h4-plain", { host, device: "/dev/vdc", label: "p", mountpoint: "/srv/p", subvolumes: [{ name: "a" }] });
    await Promise.all([resolve(limited.urn), resolve(plain.urn)]);
    await settle();
    expect(named("h4-lim-quota")).toHaveLength(1);
    expect(named("h4-plain-quota")).toHaveLength(0);
    expect(limited.expected.quotas).toBe(true);
    expect(plain.expected.quotas).toBe(false);
  });

  it("describes for verify exactly what it deploys, with defaults applied", () => {
    const host = newHost("h5");
    const volume = new BtrfsVolume("h5-data", {
      host,
      device: "/dev/vdb",
      label: "sparks-data",
      mountpoint: "/srv/sparks",
      subvolumes: [{ name: "pg", mode: "0750", owner: "postgres", limit: "2G" }, { name: "tmp", mode: "1777" }, { name: "plain" }],
    });
    expect(volume.expected).toEqual({
      name: "h5-data",
      device: "/dev/vdb",
      label: "sparks-data",
      mountpoint: "/srv/sparks",
      mountUnit: "srv-sparks.mount",
      mountOptions: ["noatime"],
      quotas: true,
      subvolumes: [
        { name: "pg", path: "/srv/sparks/pg", owner: "postgres", group: "root", mode: "750", limitBytes: 2 * 1024 ** 3 },
        { name: "tmp", path: "/srv/sparks/tmp", owner: "root", group: "root", mode: "1777", limitBytes: null },
        { name: "plain", path: "/srv/sparks/plain", owner: "root", group: "root", mode: "755", limitBytes: null },
      ],
    });
  });

  it("hands the same values to its scripts as to verify", async () => {
    const host = newHost("h6");
    const volume = new BtrfsVolume("h6-data", { host, device: "/dev/vdb", label: "l", mountpoint: "/srv/d", subvolumes: [{ name: "pg", mode: "0750", limit: "1M" }] });
    await resolve(volume.urn);
    await settle();
    const create = named("h6-data-subvolume-pg")[0].inputs.create as string;
    expect(create).toContain("MODE=750\n");
    expect(create).toContain("LIMIT_BYTES=1048576\n");
    expect(create).toContain("MOUNTPOINT=/srv/d\n");
  });

  it("gives every script its own URN as its resource, which its ownership claims record", async () => {
    const host = newHost("h7");
    const volume = new BtrfsVolume("h7-data", { host, device: "/dev/vdb", label: "l", mountpoint: "/srv/d", subvolumes: [{ name: "pg", limit: "1M" }] }, { parent: host });
    await resolve(volume.urn);
    await settle();
    const commands = named("h7-").filter((r) => r.type === "command:remote:Command");
    expect(commands.map((r) => r.name)).toEqual([
      "h7-wait-for-ssh",
      "h7-base-packages",
      "h7-data-format",
      "h7-data-mount",
      "h7-data-quota",
      "h7-data-subvolume-pg",
    ]);
    for (const command of commands) {
      const parents = ["h7-wait-for-ssh", "h7-base-packages"].includes(command.name) ? "sparks:host:Host" : "sparks:host:Host$sparks:storage:BtrfsVolume";
      expect(headerParams(command.inputs.create).RESOURCE, `${command.name} create`).toBe(renderedUrn(parents, command.name));
      if (command.inputs.delete !== undefined) {
        expect(headerParams(command.inputs.delete).RESOURCE, `${command.name} delete`).toBe(renderedUrn(parents, command.name));
      }
      // Stock sshd refuses the provider's setenv of the previous output.
      expect(command.inputs.addPreviousOutputInEnv, command.name).toBe(false);
    }
  });

  it("tells quota and subvolume scripts which filesystem they act on, so a new device re-runs them", async () => {
    const host = newHost("h8");
    const volume = new BtrfsVolume("h8-data", { host, device: "/dev/vdc", label: "lab", mountpoint: "/srv/d", subvolumes: [{ name: "pg", limit: "1M" }] });
    await resolve(volume.urn);
    await settle();
    for (const name of ["h8-data-quota", "h8-data-subvolume-pg"]) {
      const [command] = named(name);
      for (const script of [command.inputs.create, command.inputs.delete]) {
        expect(headerParams(script), name).toMatchObject({ DEVICE: "/dev/vdc", LABEL: "lab", MOUNTPOINT: "/srv/d" });
      }
    }
  });
});

/**
 * The shared script libraries, run here with bash and stand-ins for the host tools they call:
 * behaviour the sandbox host cannot provoke.
 */
describe("SparkPg", () => {
  function newSparkPg(hostName: string, instances: { name: string; forkOf?: string; protect?: boolean }[]) {
    const host = newHost(hostName);
    const volume = new BtrfsVolume(`${hostName}-data`, { host, device: "/dev/vdb", label: "l", mountpoint: "/srv/sparks", subvolumes: [{ name: "pg" }] }, { parent: host });
    const tls = new HostTls(`${hostName}-tls`, { host, addresses: ["127.0.0.1"] }, { parent: host });
    const pg = new SparkPg(
      `${hostName}-spark-pg`,
      { host, version: 15, volume, subvolume: "pg", listen: "127.0.0.1", ports: { from: 25500, to: 25519 }, instances, tls },
      { parent: host },
    );
    return { host, volume, pg };
  }

  it("names its commands after itself, nests under the host, and registers each after what it needs", async () => {
    const { pg } = newSparkPg("p1", [{ name: "main" }, { name: "fixtures", forkOf: "main" }]);
    const urn = await resolve(pg.urn);
    await settle();
    expect(urn).toContain("sparks:host:Host$sparks:postgres:SparkPg::p1-spark-pg");
    // Mocks see resources in registration order, which waits for every dependency.
    const order = named("p1-").map((r) => r.name);
    expect(order.filter((n) => n.startsWith("p1-spark-pg-"))).toEqual([
      "p1-spark-pg-packages",
      "p1-spark-pg-tool",
      "p1-spark-pg-instance-main",
      "p1-spark-pg-instance-fixtures",
    ]);
    expect(order.indexOf("p1-spark-pg-tool")).toBeGreaterThan(order.indexOf("p1-data-subvolume-pg"));
    expect(order.indexOf("p1-spark-pg-packages")).toBeGreaterThan(order.indexOf("p1-base-packages"));
  });

  it("hands each instance its name and source, and destroys it with spark-pg destroy", async () => {
    const { pg } = newSparkPg("p2", [{ name: "main" }, { name: "fixtures", forkOf: "main" }]);
    await resolve(pg.urn);
    await settle();
    const main = named("p2-spark-pg-instance-main")[0].inputs;
    const fixtures = named("p2-spark-pg-instance-fixtures")[0].inputs;
    const parents = "sparks:host:Host$sparks:postgres:SparkPg";
    expect(headerParams(main.create)).toMatchObject({ NAME: "main", FORK_OF: "''", RESOURCE: renderedUrn(parents, "p2-spark-pg-instance-main") });
    expect(headerParams(fixtures.create)).toMatchObject({ NAME: "fixtures", FORK_OF: "main" });
    expect(withShippedScript(fixtures.delete)).toContain('"$TOOL" destroy "$NAME"');
    expect(headerParams(fixtures.delete)).toMatchObject({ NAME: "fixtures", TOOL: "spark-pg", RESOURCE: renderedUrn(parents, "p2-spark-pg-instance-fixtures") });
    expect(pg.expected).toEqual({ version: 15, listen: "127.0.0.1", root: { volume: "p2-data", subvolume: "pg" }, clients: [], instances: [{ name: "main" }, { name: "fixtures", forkOf: "main" }] });
    // A reviewer reads who may connect and how, and what a change does.
    expect(headerParams(main.create).SETTINGS).toBe("('clients=(the host itself only)' 'tls=hostssl only, certificate /etc/sparks/tls/current')");
    expect(headerParams(main.create).ON_CHANGE).toContain("SETTINGS: reloads the instance");
  });

  it("installs the tool after the host's certificates exist", async () => {
    newSparkPg("p6", [{ name: "main" }]);
    await settle();
    const order = named("p6-").map((r) => r.name);
    expect(order.indexOf("p6-spark-pg-tool")).toBeGreaterThan(order.indexOf("p6-tls-certificates"));
  });

  it("turns off Debian's default cluster before installing postgres", async () => {
    const { pg } = newSparkPg("p3", []);
    await resolve(pg.urn);
    await settle();
    const script = withShippedScript(named("p3-spark-pg-packages")[0].inputs.create as string);
    expect(headerParams(script)).toMatchObject({ VERSION: "15" });
    // The install runs where the script calls it, after the config line (the library defining it comes earlier).
    const install = script.indexOf('\ninstall_recorded spark-pg-packages "$key" "$key"');
    expect(install).toBeGreaterThan(0);
    expect(script.indexOf("echo 'create_main_cluster = false'")).toBeLessThan(install);
  });

  it("takes the packages and the tool back on destroy, keeping the Host's packages", async () => {
    const { pg } = newSparkPg("p6", []);
    await resolve(pg.urn);
    await settle();
    const parents = "sparks:host:Host$sparks:postgres:SparkPg";
    const packages = named("p6-spark-pg-packages")[0].inputs.delete as string;
    expect(packages).toContain("# spark-pg/packages.delete.sh");
    expect(headerParams(packages)).toMatchObject({ VERSION: "15", KEEP_PACKAGES: "(btrfs-progs util-linux procps htop)", RESOURCE: renderedUrn(parents, "p6-spark-pg-packages") });
    const tool = named("p6-spark-pg-tool")[0].inputs.delete as string;
    expect(tool).toContain("# host-tool/remove.sh");
    expect(headerParams(tool)).toMatchObject({ ROOT: "/srv/sparks/pg", INSTALL_DIR: "/usr/local/lib/sparks/spark-pg", TOOL: "spark-pg", RESOURCE: renderedUrn(parents, "p6-spark-pg-tool") });
    // The delete carries no files: it needs only their names.
    expect(tool.split("\n")[0]).toBe("bash /dev/fd/3 3<<'SPARKS_SCRIPT'");
  });

  it("installs the tool from the shipped bundle, verbatim, with its config in the tool command", async () => {
    const { pg } = newSparkPg("p4", []);
    await resolve(pg.urn);
    await settle();
    const tool = named("p4-spark-pg-tool")[0].inputs.create as string;
    expect(JSON.parse(headerParams(tool).CONFIG_JSON.slice(1, -1))).toEqual({
      version: 15,
      root: "/srv/sparks/pg",
      listen: "127.0.0.1",
      clients: [],
      ports: [25500, 25519],
    });
    const source = headerParams(tool).SOURCE_DIR;
    expect(source).toMatch(/^\/usr\/local\/lib\/sparks\/bundle\/tools\/spark-pg-[0-9a-f]{12}$/);
    for (const file of ["spark-pg", "sparks_host/instances.py", "sparks_host/pg.py"]) {
      const shipped = path.join(bundleDir(), source.slice("/usr/local/lib/sparks/bundle/".length), file);
      expect(readFileSync(shipped, "utf8")).toBe(readFileSync(path.join(__dirname, "../../host-tools", file), "utf8"));
    }
    // A tool change is one changed path in the command, not the tool's source.
    expect(tool.length).toBeLessThan(2000);
  });

  it("refuses a subvolume its volume does not declare, and a fork of an instance not declared before", () => {
    const host = newHost("p5");
    const volume = new BtrfsVolume("p5-data", { host, device: "/dev/vdb", label: "l", mountpoint: "/srv/sparks", subvolumes: [{ name: "pg" }] });
    const tls = new HostTls("p5-tls", { host, addresses: ["127.0.0.1"] });
    const args = { host, version: 15, volume, listen: "127.0.0.1", ports: { from: 1, to: 2 }, tls };
    expect(() => new SparkPg("p5-a", { ...args, subvolume: "nope" })).toThrow(/no subvolume "nope"/);
    expect(() => new SparkPg("p5-b", { ...args, subvolume: "pg", instances: [{ name: "f", forkOf: "main" }] })).toThrow(/not declared before/);
  });
});

describe("host script libraries", () => {
  const scratch = mkdtempSync(path.join(tmpdir(), "sparks-lib-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /** Runs `body` after lib/common.sh and the named libraries, with `bin` first on PATH. */
  function runWithLibs(libs: string[], body: string, stubs: Record<string, string> = {}) {
    const bin = mkdtempSync(path.join(scratch, "bin-"));
    for (const [tool, script] of Object.entries(stubs)) {
      writeFileSync(path.join(bin, tool), `#!/bin/bash\n${script}\n`);
      chmodSync(path.join(bin, tool), 0o755);
    }
    // A new file each time: renderScriptBody caches scripts by path (relative to components/scripts).
    const scriptFile = path.join(bin, "script.sh");
    writeFileSync(scriptFile, `#!/usr/bin/env bash\n${libs.map((lib) => `# sparks-include: ${lib}\n`).join("")}${body}\n`);
    const rendered = renderScriptBody(path.relative(SCRIPTS_DIR, scriptFile), {});
    return spawnSync("bash", ["-c", rendered], { encoding: "utf8", env: { PATH: `${bin}:${process.env.PATH}` } });
  }

  it("probe_device reports a blkid failure instead of calling the device blank", () => {
    const run = runWithLibs(["lib/block-device.sh"], 'probe_device /dev/vdx; echo "type=[$FOUND_TYPE]"', {
      blkid: 'echo "/dev/vdx: ambivalent result (probably more filesystems on the device)" >&2; exit 8',
    });
    expect(run.stderr).toContain("error: cannot probe /dev/vdx: /dev/vdx: ambivalent result");
    expect(run.stdout).not.toContain("type=");
    expect(run.status).toBe(1);
  });

  it("probe_device finds a blank device blank (blkid exit 2), and reads what blkid finds", () => {
    const blank = runWithLibs(["lib/block-device.sh"], 'probe_device /dev/vdx; echo "type=[$FOUND_TYPE]"', { blkid: "exit 2" });
    expect(blank.stdout).toContain("type=[]");
    expect(blank.status).toBe(0);
    const found = runWithLibs(["lib/block-device.sh"], 'probe_device /dev/vdx; echo "$FOUND_TYPE $FOUND_LABEL $FOUND_UUID"', {
      blkid: "printf 'DEVNAME=/dev/vdx\\nLABEL=l\\nUUID=u-1\\nTYPE=btrfs\\n'",
    });
    expect(found.stdout).toContain("btrfs l u-1\n");
    expect(found.status).toBe(0);
  });

  it("write_file leaves no temp file behind when a step fails", () => {
    const dir = mkdtempSync(path.join(scratch, "etc-"));
    const target = path.join(dir, "unit.mount");
    const run = runWithLibs(["lib/write-file.sh"], `write_file ${target} 0644 <<<content`, { mv: "exit 1" });
    expect(run.status).not.toBe(0);
    expect(readdirSync(dir)).toEqual([]);
    const written = runWithLibs(["lib/write-file.sh"], `write_file ${target} 0644 <<<content; echo "$FILE_CHANGED"`);
    expect(written.stdout).toContain("yes\n");
    expect(readdirSync(dir)).toEqual(["unit.mount"]);
  });
});
