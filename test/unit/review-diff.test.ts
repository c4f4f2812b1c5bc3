import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { buildReview, type FileDiff, type Review } from "../../apply/review/diff";
import { type EvaluatedSide, evaluateSide } from "../../apply/review/evaluate-rev";
import { LIMITS } from "../../apply/review/render-common";
import { renderMarkdown } from "../../apply/review/render-markdown";
import { renderText } from "../../apply/review/render-text";
import { copyProgram } from "../fixtures/program-copy";

const ROOT = path.resolve(__dirname, "../..");
const scratch = mkdtempSync(path.join(tmpdir(), "sparks-review-diff-"));
const programCopy = path.join(scratch, "program");
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type HostsConfig = { config: { "sparks:hosts": any[]; "sparks:hostDefaults"?: any } };

/** The stack's config file with `edit` applied, written into the scratch directory. */
function editedConfig(stack: string, name: string, edit: (document: HostsConfig) => void): string {
  const document = parse(readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as HostsConfig;
  edit(document);
  const file = path.join(scratch, `Pulumi.${stack}-${name}.yaml`);
  writeFileSync(file, stringify(document));
  return file;
}

const hosts = (document: HostsConfig) => document.config["sparks:hosts"];

/** Each case: the stack, and how to evaluate its base and its head (a config file, a program copy). */
const CASES = {
  unchanged: { stack: "prod", base: {}, head: {} },
  "one-value": { stack: "prod", base: {}, head: { config: "8G" } },
  "script-change": { stack: "prod", base: {}, head: { root: programCopy } },
  "new-host": { stack: "prod", base: {}, head: { config: "3-hosts" } },
  "removed-instance": { stack: "prod", base: {}, head: { config: "no-redis-fixtures" } },
  "protected-replace": { stack: "dev", base: { config: "guest-protected" }, head: { config: "guest-protected-new-image" } },
} as const;

const configs: Record<string, string> = {};
const sides = new Map<string, EvaluatedSide>();
const reviews = {} as Record<keyof typeof CASES, Review>;

beforeAll(async () => {
  configs["8G"] = editedConfig("prod", "8G", (d) => hosts(d).forEach((host) => (host.redis.maxmemory = "8G")));
  configs["3-hosts"] = editedConfig("prod", "3-hosts", (d) => {
    const third = structuredClone(hosts(d)[1]);
    third.name = "prod-3";
    third.ssh.address = "203.0.113.23";
    third.btrfs.volumes[0].device = "/dev/disk/by-id/nvme-SAMSUNG_MZ1L23T8HBLA-00A07_S667NE0T200013";
    hosts(d).push(third);
  });
  // Prod declares its instances once, in hostDefaults: removing one there removes it on every host.
  configs["no-redis-fixtures"] = editedConfig("prod", "no-redis-fixtures", (d) => {
    const redis = d.config["sparks:hostDefaults"].redis;
    redis.instances = redis.instances.filter((i: { name: string }) => i.name !== "fixtures");
  });
  const protectGuest = (d: HostsConfig) => {
    hosts(d)[0].kvm.guests[0].protect = true;
    // A protected guest needs its volume protected too (stacks/kvm-validate.ts).
    hosts(d)[0].btrfs.volumes[0].protect = true;
  };
  configs["guest-protected"] = editedConfig("dev", "guest-protected", protectGuest);
  configs["guest-protected-new-image"] = editedConfig("dev", "guest-protected-new-image", (d) => {
    protectGuest(d);
    hosts(d)[0].kvm.images[0].sha512 = "1".repeat(128);
  });
  copyProgram(programCopy, "components/scripts/btrfs-volume/mount.sh", (script) =>
    script.replace("unit_path=/etc/systemd/system/$MOUNT_UNIT", "unit_path=/etc/systemd/system/$MOUNT_UNIT\n# a reviewed change"),
  );
  // Each distinct side once, two at a time: the machine has two cores.
  const keyOf = (stack: string, side: { config?: string; root?: string }) => `${stack}|${side.root ?? ROOT}|${side.config ?? ""}`;
  const wanted = new Map<string, () => Promise<EvaluatedSide>>();
  for (const { stack, base, head } of Object.values(CASES)) {
    for (const side of [base, head] as { config?: string; root?: string }[]) {
      wanted.set(keyOf(stack, side), () => evaluateSide(side.root ?? ROOT, stack, { configFile: side.config && configs[side.config] }));
    }
  }
  const queue = [...wanted];
  await Promise.all(
    [0, 1].map(async () => {
      for (let job = queue.shift(); job; job = queue.shift()) sides.set(job[0], await job[1]());
    }),
  );
  for (const [name, { stack, base, head }] of Object.entries(CASES)) {
    reviews[name as keyof typeof CASES] = buildReview("base", [{ stack, base: sides.get(keyOf(stack, base)), head: sides.get(keyOf(stack, head)) }]);
  }
}, 180_000);

describe("review: what a deploy of the work tree would change against the base", () => {
  it.each(Object.keys(CASES) as (keyof typeof CASES)[])("renders the %s case as a PR comment (snapshot)", async (name) => {
    await expect(renderMarkdown(reviews[name])).toMatchFileSnapshot(`__snapshots__/review-${name}.md`);
  });

  it("says an unchanged stack has no changes, and nothing else", () => {
    expect(renderText(reviews.unchanged)).toBe("review: base -> work tree\n\nstack prod: no changes\n");
    expect(renderMarkdown(reviews.unchanged)).toContain("#### prod: no changes\n");
    expect(reviews.unchanged.files).toEqual([]);
  });

  it("reads a one-value change in a few lines: the value by name, the restarts, the changed output", () => {
    const text = renderText(reviews["one-value"]);
    expect(text.split("\n").length).toBeLessThan(30);
    for (const host of ["prod-1", "prod-2"]) {
      expect(text).toContain(`~ update ${host}-redis-tool\n    CONFIG_JSON.maxmemory: 4294967296 -> 8589934592\n`);
      for (const instance of ["main", "fixtures"]) {
        expect(text).toContain(`~ update ${host}-redis-instance-${instance}\n    SETTINGS: maxmemory=4G -> maxmemory=8G\n    applies as: SETTINGS: restarts the instance\n`);
      }
    }
    expect(text).toMatch(/^stack prod: 6 to update, \d+ to leave unchanged$/m);
    expect(reviews["one-value"].stacks[0].restarts.sort()).toEqual(["prod-1-redis-instance-fixtures", "prod-1-redis-instance-main", "prod-2-redis-instance-fixtures", "prod-2-redis-instance-main"]);
    expect(text).toContain("    verifyManifest.hosts[0].redis.maxmemory: 4294967296 -> 8589934592\n    verifyManifest.hosts[1].redis.maxmemory: 4294967296 -> 8589934592\n");
    expect(reviews["one-value"].files).toEqual([]);
  });

  it("restarts nothing when only a tool's config changes: the tool's command is no instance", () => {
    const review = reviews["one-value"].stacks[0];
    expect(review.restarts).not.toContain("prod-1-redis-tool");
  });

  it("shows a changed script once as a diff, however many commands and hosts run it", () => {
    const review = reviews["script-change"];
    const text = renderText(review);
    expect(review.files.map((file) => file.names)).toEqual([["scripts/btrfs-volume/mount.sh"]]);
    expect(text.match(/^\+# a reviewed change$/gm)).toHaveLength(1);
    expect(text).toContain("--- scripts/btrfs-volume/mount.sh (+1 -0; prod)\n@@ -");
    for (const host of ["prod-1", "prod-2"]) {
      expect(text).toContain(`~ update ${host}-data-mount\n    create: runs scripts/btrfs-volume/mount.sh, which changed (diff below)\n`);
      expect(text).toMatch(new RegExp(`~ update ${host}-host-files .*\\n    source: \\w+ -> \\w+\\n    ships 1 changed file: scripts/btrfs-volume/mount.sh \\(diff below\\)\\n`));
    }
    expect(text).not.toContain("script changed");
  });

  it("creates every resource of a new host and touches the others' not", () => {
    const steps = reviews["new-host"].stacks[0].steps;
    const changed = steps.filter((step) => step.kind !== "same");
    expect(changed.length).toBeGreaterThan(10);
    expect(changed.every((step) => step.kind === "create" && step.urn.includes("prod-3"))).toBe(true);
    const text = renderText(reviews["new-host"]);
    expect(text).toMatch(/^\+ create prod-3-redis-instance-main$/m);
    // A preview runs nothing, so the new host's CA certificate is still empty.
    expect(text).toMatch(/^outputs:\n {4}tlsCaCertificates.prod-3: \(none\) -> ""\n {4}verifyManifest.hosts\[2\]: \(none\) -> \(\d+ values\)\n$/m);
  });

  it("deletes a removed instance on every host that had it, and says which outputs go", () => {
    const text = renderText(reviews["removed-instance"]);
    expect(text).toMatch(/^stack prod: 2 to delete, \d+ to leave unchanged$/m);
    expect(text).toContain("\n- delete prod-1-redis-instance-fixtures\n");
    expect(text).toContain("\n- delete prod-2-redis-instance-fixtures\n");
    expect(text).toContain("outputs:\n    verifyManifest.hosts[0].redis.instances[1]: (3 values) -> (none)\n    verifyManifest.hosts[1].redis.instances[1]: (3 values) -> (none)\n");
  });

  it("shows that the engine refuses to replace a protected resource", () => {
    const text = renderText(reviews["protected-replace"]);
    expect(text).toMatch(/^\+- replace dev-1-kvm-guest-spark-dev-1-domain \(triggers forces a replace, delete first; retainOnDelete: the old delete does not run\)\n {4}error: unable to replace resource \S+ as it is currently marked for protection$/m);
    const unprotected = buildReview("base", [{ stack: "dev", base: sides.get(`dev|${ROOT}|`), head: sides.get(`dev|${ROOT}|guest-protected-new-image`) }]);
    // Unprotecting and replacing in one update is allowed (the engine checks the old and the new protect).
    expect(renderText(unprotected)).not.toContain("error: unable to replace");
  });

  it("never prints a secret value", () => {
    const side = sides.get(`prod|${ROOT}|8G`) as EvaluatedSide;
    const review = buildReview("base", [{ stack: "prod", base: sides.get(`prod|${ROOT}|`), head: { ...side, secretValues: ["8589934592"] } }]);
    for (const output of [renderText(review), renderMarkdown(review)]) {
      expect(output).not.toContain("8589934592");
      expect(output).toContain("CONFIG_JSON.maxmemory: 4294967296 -> [secret]");
    }
  });
});

describe("review output is bounded", () => {
  const longDiff: FileDiff = {
    names: ["scripts/long.sh"],
    stacks: ["prod"],
    hunks: [{ header: "@@ -1,0 +1,200 @@", lines: Array.from({ length: 200 }, (_, i) => `+line ${i}`) }],
    added: 200,
    removed: 0,
  };
  const withFiles = (files: FileDiff[]): Review => ({ ...reviews.unchanged, files });

  it("folds a long script diff: a count of hidden lines in the terminal, a <details> block in markdown", () => {
    const text = renderText(withFiles([longDiff]));
    expect(text).toContain(`+line ${LIMITS.fileLinesText - 2}\n... ${201 - LIMITS.fileLinesText} more lines\n`);
    expect(text).not.toContain(`+line ${LIMITS.fileLinesText}\n`);
    const markdown = renderMarkdown(withFiles([longDiff]));
    expect(markdown).toContain("<details><summary>scripts/long.sh (+200 -0; prod): 201 lines</summary>");
    expect(markdown).toContain(`... ${201 - LIMITS.fileLinesMarkdown} more lines\n\`\`\`\n\n</details>`);
  });

  it("leaves a short diff unfolded", () => {
    const short = { ...longDiff, hunks: [{ header: "@@ -1 +1 @@", lines: ["-old", "+new"] }], added: 1, removed: 1 };
    expect(renderMarkdown(withFiles([short]))).not.toContain("<details>");
  });

  it("caps the whole output with a note, never cutting a block in half", () => {
    const many = Array.from({ length: 60 }, (_, i) => ({ ...longDiff, names: [`scripts/long-${i}.sh`] }));
    const markdown = renderMarkdown(withFiles(many));
    expect(markdown.length).toBeLessThanOrEqual(LIMITS.totalChars + 400);
    expect(markdown).toMatch(/> \d+ more sections not shown: this review is cut at 60000 characters/);
    expect(markdown.match(/<details>/g)?.length).toBe(markdown.match(/<\/details>/g)?.length);
    const more = Array.from({ length: 200 }, (_, i) => ({ ...longDiff, names: [`scripts/long-${i}.sh`] }));
    expect(renderText(withFiles(more))).toMatch(/\.\.\. \d+ more sections not shown: the review is cut at 60000 characters\n$/);
  });
});
