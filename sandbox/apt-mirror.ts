import fs from "node:fs";
import path from "node:path";

interface AptSource {
  types: string[];
  uri: string;
  suites: string[];
}

function deb822Sources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of stanza.split("\n")) {
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m) fields.set(m[1]!.toLowerCase(), m[2]!.trim());
    }
    if ((fields.get("enabled") ?? "yes").toLowerCase() === "no") continue;
    const uris = (fields.get("uris") ?? "").split(/\s+/).filter(Boolean);
    const types = (fields.get("types") ?? "").split(/\s+/).filter(Boolean);
    const suites = (fields.get("suites") ?? "").split(/\s+/).filter(Boolean);
    for (const uri of uris) sources.push({ types, uri, suites });
  }
  return sources;
}

function oneLineSources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").replace(/\[[^\]]*\]/, " ").trim();
    const [type, uri, suite] = line.split(/\s+/);
    if (type && uri && suite) sources.push({ types: [type], uri, suites: [suite] });
  }
  return sources;
}

function readSources(): AptSource[] {
  const sources: AptSource[] = [];
  const dir = "/etc/apt/sources.list.d";
  const names = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  for (const name of names) {
    const file = path.join(dir, name);
    if (name.endsWith(".sources")) sources.push(...deb822Sources(fs.readFileSync(file, "utf8")));
    else if (name.endsWith(".list")) sources.push(...oneLineSources(fs.readFileSync(file, "utf8")));
  }
  if (fs.existsSync("/etc/apt/sources.list")) {
    sources.push(...oneLineSources(fs.readFileSync("/etc/apt/sources.list", "utf8")));
  }
  return sources.filter((s) => s.types.includes("deb") && /^(https?|file):/.test(s.uri));
}

/**
 * The machine's own Debian mirror: the one carrying `suite`, else the one carrying
 * any plain release (a -security or -updates archive has no base suite to bootstrap from).
 */
export function debianMirror(suite: string): string {
  const sources = readSources();
  const exact = sources.find((s) => s.suites.includes(suite));
  const release = sources.find((s) => s.suites.some((x) => !/-(security|updates|backports|proposed-updates)$|\/updates$/.test(x)));
  const chosen = exact ?? release;
  if (!chosen) {
    throw new Error("no Debian mirror in /etc/apt/sources.list or /etc/apt/sources.list.d/ (need a `deb` source)");
  }
  return chosen.uri;
}

/** Every http(s) Debian archive the machine's apt uses, each once: what the sandbox's apt proxy may fetch from. */
export function debianMirrors(): string[] {
  return [...new Set(readSources().map((s) => s.uri.replace(/\/+$/, "")).filter((uri) => /^https?:/.test(uri)))];
}
