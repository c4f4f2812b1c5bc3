import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { toJUnitXml, writeJUnit } from "../../verify/junit";
import type { VerifyResult } from "../../verify/types";

const result: VerifyResult = {
  project: "sparks-infra",
  stack: "dev",
  hosts: [
    {
      name: "spark-1",
      target: "root@10.0.0.1:22",
      checks: [
        { name: "ssh host key", status: "pass" },
        { name: "btrfs data/pg: mode 700", status: "fail", expected: "700", found: "755" },
        { name: `label "a" <&> 'b'`, status: "fail", expected: "x < y & z", found: "line1\nline2" },
      ],
    },
    {
      name: "spark-2",
      target: "root@10.0.0.2:22",
      checks: [{ name: "ssh connect", status: "skip", detail: "host key refused" }],
    },
  ],
  summary: { passed: 1, failed: 2, skipped: 1, rootCauses: 2, unreachable: 0 },
};

interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
}

/** Just enough XML to read JUnit back: elements, attributes, entities; text and CDATA are skipped. */
function parseXml(xml: string): XmlElement {
  const decode = (s: string) =>
    s.replace(/&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot|apos);/gi, (_, e: string) =>
      e[0] === "#"
        ? String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10))
        : ({ lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" } as Record<string, string>)[e]!,
    );
  const root: XmlElement = { name: "#document", attributes: {}, children: [] };
  const stack = [root];
  const body = xml.replace(/<\?xml[^>]*\?>/, "").replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, "");
  for (const [, close, name, attrs, selfClose] of body.matchAll(/<(\/?)([\w:-]+)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>/g)) {
    if (close) {
      expect(stack.pop()?.name).toBe(name);
      continue;
    }
    const element: XmlElement = { name: name!, attributes: {}, children: [] };
    for (const [, key, value] of attrs!.matchAll(/([\w:-]+)="([^"]*)"/g)) element.attributes[key!] = decode(value!);
    stack.at(-1)!.children.push(element);
    if (!selfClose) stack.push(element);
  }
  expect(stack).toHaveLength(1);
  return root.children[0]!;
}

const children = (element: XmlElement, name: string) => element.children.filter((c) => c.name === name);

describe("JUnit report", () => {
  it("has one testsuite per host and one testcase per check", () => {
    const suites = parseXml(toJUnitXml(result));
    expect(suites.name).toBe("testsuites");
    expect(suites.attributes).toMatchObject({ tests: "4", failures: "2", skipped: "1" });
    const [one, two] = children(suites, "testsuite");
    expect(one?.attributes).toMatchObject({ name: "spark-1", tests: "3", failures: "2" });
    expect(children(one!, "testcase").map((c) => c.attributes.name)).toEqual([
      "ssh host key",
      "btrfs data/pg: mode 700",
      `label "a" <&> 'b'`,
    ]);
    expect(two?.attributes).toMatchObject({ name: "spark-2", tests: "1", skipped: "1" });
  });

  it("puts expected and found in the failure message, escaped and read back intact", () => {
    const [one] = children(parseXml(toJUnitXml(result)), "testsuite");
    const [pass, mode, odd] = children(one!, "testcase");
    expect(children(pass!, "failure")).toEqual([]);
    expect(children(mode!, "failure")[0]?.attributes.message).toBe("expected: 700; found: 755");
    expect(children(odd!, "failure")[0]?.attributes.message).toBe("expected: x < y & z; found: line1\nline2");
  });

  it("marks a check that did not run as skipped", () => {
    const [, two] = children(parseXml(toJUnitXml(result)), "testsuite");
    expect(children(children(two!, "testcase")[0]!, "skipped")).toHaveLength(1);
  });

  let dir: string | undefined;
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  it("writes the same document to a file, creating its directory", () => {
    dir = mkdtempSync(path.join(tmpdir(), "verify-junit-"));
    const file = path.join(dir, "reports", "verify.xml");
    writeJUnit(result, file);
    expect(readFileSync(file, "utf8")).toBe(toJUnitXml(result));
  });
});
