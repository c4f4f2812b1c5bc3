import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { planUpdate } from "../../apply/engine/steps";
import { urnName } from "../../apply/engine/urn";
import { copyProgram, recordProgram } from "../fixtures/program-copy";

const OUT = path.join(__dirname, "../../test-results/script-change");
const copy = mkdtempSync(path.join(tmpdir(), "sparks-script-change-"));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

describe("a host script change, as pulumi up sees it", () => {
  it("updates exactly the commands that run the script, and ships the new version once per host", async () => {
    mkdirSync(OUT, { recursive: true });
    const before = await recordProgram("prod", OUT);
    copyProgram(copy, "components/scripts/btrfs-volume/mount.sh", (script) => script.replace('unit_path=/etc/systemd/system/$MOUNT_UNIT', 'unit_path=/etc/systemd/system/$MOUNT_UNIT\n# a reviewed change'));
    const after = await recordProgram("prod", OUT, copy);
    const steps = planUpdate({ version: 1, stack: "prod", resources: before.resources, pendingOperations: [] }, after.goals);
    const changed = steps.filter((s) => s.kind !== "same").map((s) => `${s.kind} ${urnName(s.urn)}`);
    expect(changed.sort()).toEqual(["update prod-1-data-mount", "update prod-1-host-files", "update prod-2-data-mount", "update prod-2-host-files"]);
    // One changed line in each command: the version of the script it calls.
    const mount = steps.find((s) => urnName(s.urn) === "prod-1-data-mount");
    expect(mount?.changedKeys).toEqual(["create"]);
    const lines = (text: unknown) => String(text).split("\n");
    const [oldLines, newLines] = [lines(mount?.old?.inputs.create), lines(mount?.goal?.inputs.create)];
    expect(newLines.filter((line, i) => line !== oldLines[i])).toEqual([expect.stringMatching(/^\. \/usr\/local\/lib\/sparks\/bundle\/scripts\/btrfs-volume\/mount-[0-9a-f]{12}\.sh$/)]);
  }, 90_000);
});
