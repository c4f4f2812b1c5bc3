// Prints the closing line `N passed, M failed, K skipped` from vitest's JUnit report, in the plain
// form CI tools read whatever the test runner printed.
const xml = require("node:fs").readFileSync(process.argv[2], "utf8");
const root = /<testsuites[^>]*\btests="(\d+)"[^>]*\bfailures="(\d+)"[^>]*\berrors="(\d+)"/.exec(xml);
if (!root) throw new Error(`${process.argv[2]}: no <testsuites> totals`);
const [tests, failures, errors] = root.slice(1).map(Number);
const skipped = (xml.match(/<skipped\b/g) ?? []).length;
console.log(`${tests - failures - errors - skipped} passed, ${failures + errors} failed, ${skipped} skipped`);
