import { describe, expect, it } from "vitest";
import { renderDomainXml, type DomainSpec } from "../../components/kvm/domain-xml";
import { renderNetworkXml } from "../../components/kvm-host";
import { renderSeed } from "../../components/kvm/seed";

const dir = "/srv/sparks/images/guests/g1";
const spec: DomainSpec = {
  name: "g1",
  domainType: "qemu",
  vcpus: 1,
  memoryKiB: 262144,
  nested: true,
  diskPath: `${dir}/disk.raw`,
  seedPath: `${dir}/seed.iso`,
  consoleLog: `${dir}/console.log`,
  directKernel: { kernel: `${dir}/vmlinuz`, initrd: `${dir}/initrd.img`, cmdline: "console=ttyS0 quiet panic=-1" },
  network: { mode: "user" },
};

describe("domain XML", () => {
  it("renders a direct-kernel-boot TCG guest on the user network (snapshot)", async () => {
    await expect(renderDomainXml(spec)).toMatchFileSnapshot("__snapshots__/kvm-domain-tcg.xml");
  });

  it("renders a nested KVM guest booting its own disk on a libvirt network (snapshot)", async () => {
    const xml = renderDomainXml({ ...spec, domainType: "kvm", vcpus: 8, memoryKiB: 32 * 1024 * 1024, directKernel: undefined, network: { mode: "nat", network: "sparks-nat" } });
    await expect(xml).toMatchFileSnapshot("__snapshots__/kvm-domain-kvm-nested.xml");
  });

  it("passes the host CPU through only for nested guests of domain type kvm", () => {
    const passthrough = "<cpu mode='host-passthrough'";
    expect(renderDomainXml({ ...spec, domainType: "kvm", nested: true })).toContain(passthrough);
    expect(renderDomainXml({ ...spec, domainType: "kvm", nested: false })).not.toContain(passthrough);
    expect(renderDomainXml({ ...spec, domainType: "qemu", nested: true })).not.toContain(passthrough);
  });

  it("carries no UUID (the ensure script keeps the existing domain's) and gives memory no headroom", () => {
    const xml = renderDomainXml(spec);
    expect(xml).not.toContain("<uuid>");
    expect(xml).toContain("<memory unit='KiB'>262144</memory>");
    expect(xml).toContain("<currentMemory unit='KiB'>262144</currentMemory>");
  });

  it("escapes values that reach XML", () => {
    expect(renderDomainXml({ ...spec, directKernel: { ...spec.directKernel!, cmdline: "a<b & 'c'" } })).toContain("<cmdline>a&lt;b &amp; &apos;c&apos;</cmdline>");
  });
});

describe("network XML", () => {
  it("gives a nat network DHCP in the upper half of its subnet", () => {
    const xml = renderNetworkXml({ name: "sparks-nat", mode: "nat", bridge: "virbr-sparks", address: "192.168.122.1/24" });
    expect(xml).toContain("<ip address='192.168.122.1' prefix='24'>");
    expect(xml).toContain("<range start='192.168.122.128' end='192.168.122.254'/>");
  });
});

describe("NoCloud seed", () => {
  it("names the instance and prints the readiness line after the operator's own runcmd", () => {
    const seed = renderSeed({ hostname: "g1", instanceId: "g1-tiny-abc", sshKeys: ["ssh-ed25519 AAAA op"], extra: { runcmd: ["touch /x"], packages: ["htop"] } });
    expect(seed.metaData).toBe("instance-id: g1-tiny-abc\nlocal-hostname: g1\n");
    expect(seed.userData.startsWith("#cloud-config\n")).toBe(true);
    expect(seed.userData).toContain("ssh_authorized_keys:\n  - ssh-ed25519 AAAA op");
    expect(seed.userData).toContain("packages:\n  - htop");
    expect(seed.userData.indexOf("touch /x")).toBeLessThan(seed.userData.indexOf("sparks-ready instance-id=g1-tiny-abc"));
  });
});
