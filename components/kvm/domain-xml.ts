/** What the domain XML is rendered from: one guest's definition, with its paths on the host. */
export interface DomainSpec {
  name: string;
  /** libvirt domain type: `kvm`, or `qemu` for TCG emulation. */
  domainType: "kvm" | "qemu";
  vcpus: number;
  memoryKiB: number;
  /** Host-passthrough CPU, so the guest sees VMX/SVM and gets /dev/kvm; only with domain type kvm. */
  nested: boolean;
  /** The guest's own raw disk (a clone of its base image). */
  diskPath: string;
  /** The NoCloud seed (iso9660 labelled cidata), attached as a second read-only disk. */
  seedPath: string;
  /** File the serial console is logged to; verify reads the readiness line there. */
  consoleLog: string;
  /** Direct kernel boot (kernel, initrd, command line), for images that carry no boot loader. */
  directKernel?: { kernel: string; initrd: string; cmdline: string };
  network: DomainNetwork;
}

export type DomainNetwork = { mode: "user" } | { mode: "nat"; network: string } | { mode: "bridge"; bridge: string };

const escapeXml = (value: string | number) =>
  String(value).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c] as string);

function interfaceXml(network: DomainNetwork): string[] {
  const model = "      <model type='virtio'/>";
  switch (network.mode) {
    case "user":
      return ["    <interface type='user'>", model, "    </interface>"];
    case "nat":
      return ["    <interface type='network'>", `      <source network='${escapeXml(network.network)}'/>`, model, "    </interface>"];
    case "bridge":
      return ["    <interface type='bridge'>", `      <source bridge='${escapeXml(network.bridge)}'/>`, model, "    </interface>"];
  }
}

/**
 * The libvirt domain XML of a guest. It carries no UUID: the ensure script keeps the UUID of an
 * existing domain, so redefining it changes the definition in place. Memory and vCPUs have no
 * headroom above what is declared (max = current), so a change of either needs a restart.
 */
export function renderDomainXml(spec: DomainSpec): string {
  const e = escapeXml;
  const boot = spec.directKernel
    ? [`    <kernel>${e(spec.directKernel.kernel)}</kernel>`, `    <initrd>${e(spec.directKernel.initrd)}</initrd>`, `    <cmdline>${e(spec.directKernel.cmdline)}</cmdline>`]
    : ["    <boot dev='hd'/>"];
  const cpu = spec.nested && spec.domainType === "kvm" ? ["  <cpu mode='host-passthrough' check='none' migratable='off'/>"] : [];
  return [
    `<domain type='${e(spec.domainType)}'>`,
    `  <name>${e(spec.name)}</name>`,
    `  <memory unit='KiB'>${spec.memoryKiB}</memory>`,
    `  <currentMemory unit='KiB'>${spec.memoryKiB}</currentMemory>`,
    `  <vcpu placement='static'>${spec.vcpus}</vcpu>`,
    "  <os>",
    "    <type arch='x86_64' machine='pc'>hvm</type>",
    ...boot,
    "  </os>",
    "  <features>",
    "    <acpi/>",
    "  </features>",
    ...cpu,
    "  <on_poweroff>destroy</on_poweroff>",
    "  <on_reboot>restart</on_reboot>",
    "  <on_crash>destroy</on_crash>",
    "  <devices>",
    "    <disk type='file' device='disk'>",
    "      <driver name='qemu' type='raw' cache='none' io='native' discard='unmap'/>",
    `      <source file='${e(spec.diskPath)}'/>`,
    "      <target dev='vda' bus='virtio'/>",
    "    </disk>",
    "    <disk type='file' device='disk'>",
    "      <driver name='qemu' type='raw'/>",
    `      <source file='${e(spec.seedPath)}'/>`,
    "      <target dev='vdb' bus='virtio'/>",
    "      <readonly/>",
    "    </disk>",
    ...interfaceXml(spec.network),
    "    <serial type='file'>",
    `      <source path='${e(spec.consoleLog)}'/>`,
    "      <target port='0'/>",
    "    </serial>",
    "    <console type='file'>",
    `      <source path='${e(spec.consoleLog)}'/>`,
    "      <target type='serial' port='0'/>",
    "    </console>",
    "    <memballoon model='none'/>",
    "  </devices>",
    "</domain>",
    "",
  ].join("\n");
}
